package dev.qcow2.image

import dev.qcow2.testing.ImageMatrix
import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path
import java.util.concurrent.Callable
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit

/**
 * One open image read by several threads at once (random ranges, shared L2 cache much smaller
 * than the disk's metadata so tables are evicted and reloaded concurrently): every read returns
 * the bytes qemu-img convert produces.
 */
class ConcurrentReadSpec extends Specification {
    @Shared long seed = Long.getLong('qcow2.seed', System.nanoTime())
    @TempDir Path dir

    def setupSpec() { println "ConcurrentReadSpec seed=$seed (replay with -Dqcow2.seed=$seed)" }

    def "#threads threads reading random ranges of '#name' (L2 cache #cacheBytes B) all get qemu's bytes"() {
        given:
        def image = ImageMatrix.build(name, dir, seed)
        byte[] expected = Qemu.rawBytes(image)
        def before = FileHashes.of(dir)
        def pool = Executors.newFixedThreadPool(threads)

        when:
        List<String> failures
        Qcow2Image.open(image, OpenOptions.permissive().withL2CacheBytes(cacheBytes)).withCloseable { img ->
            def tasks = (0..<threads).collect { int t ->
                { ->
                    def rnd = new Random(seed * 31 + t)
                    def bad = []
                    400.times {
                        int len = 1 + rnd.nextInt(rnd.nextBoolean() ? 600 : 150_000)
                        long off = (long) (rnd.nextDouble() * (expected.length - len))
                        byte[] got = img.read(off, len)
                        if (Arrays.mismatch(got, 0, len, expected, (int) off, (int) off + len) >= 0) bad << "thread $t: $off+$len"
                    }
                    bad
                } as Callable<List<String>>
            }
            failures = pool.invokeAll(tasks).collectMany { it.get() }
        }
        pool.shutdown()
        pool.awaitTermination(10, TimeUnit.SECONDS)

        then:
        failures == []
        FileHashes.of(dir) == before

        where:
        name                       | threads | cacheBytes
        'cluster 512 B'            | 8       | 1024
        'convert -c zlib 4 KiB'    | 8       | 8192
        'convert -c zstd 64 KiB'   | 4       | 0
        'extended_l2 over backing' | 6       | 0
        'chain raw<-qcow2<-qcow2'  | 6       | 0
    }
}
