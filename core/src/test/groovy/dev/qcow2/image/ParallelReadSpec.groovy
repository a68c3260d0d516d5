package dev.qcow2.image

import spock.lang.Specification

import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicInteger

/** A large read cut into pieces at cluster boundaries, read on several threads, returns what one read would. */
class ParallelReadSpec extends Specification {

    /** guest byte i is (i * 31 + i >> 16) as a byte: any misplaced piece shows */
    static byte at(long i) { (byte) (i * 31 + (i >> 16)) }

    def "a #length-byte read at #offset (clusters of #cluster) equals the guest bytes; pieces never split a cluster"() {
        given:
        Set<String> threads = ConcurrentHashMap.newKeySet()
        List<long[]> pieces = Collections.synchronizedList([])
        ParallelRead.Reader reader = { long guest, byte[] buf, int o, int n ->
            threads << Thread.currentThread().name
            pieces << ([guest, n] as long[])
            for (int i = 0; i < n; i++) buf[o + i] = at(guest + i)
        }
        byte[] buf = new byte[length + 7]

        when:
        ParallelRead.read(reader, offset, buf, 7, length, cluster)

        then:
        (0..<length).every { buf[7 + it] == at(offset + it) }
        pieces.sum { it[1] } == length
        pieces.every { p -> p[0] == offset || p[0] % cluster == 0 }
        // split whenever there are two cores, two pieces' worth of bytes and a cluster boundary inside
        Runtime.runtime.availableProcessors() == 1 || length < 2 * (256 << 10) || (offset + length - 1).intdiv(cluster) == offset.intdiv(cluster) || pieces.size() > 1

        where:
        offset        | length           | cluster
        0             | 4 << 20          | 65536
        12345         | 4 << 20          | 65536
        65536 * 7     | (1 << 20) + 1    | 512
        3             | 4 << 20          | 2 << 20
        0             | 1 << 20          | 4 << 20
        100           | 4096             | 512
        (1L << 40)    | 3 << 20          | 65536
    }

    def "a failing piece fails the read, after every piece has finished"() {
        given:
        AtomicInteger running = new AtomicInteger()
        AtomicInteger finished = new AtomicInteger()
        ParallelRead.Reader reader = { long guest, byte[] buf, int o, int n ->
            running.incrementAndGet()
            try {
                if (guest != 0) throw new IOException("bad cluster at $guest")
                Thread.sleep(200)   // the caller's own piece is the slow one
            } finally {
                finished.incrementAndGet()
            }
        }

        when:
        ParallelRead.read(reader, 0, new byte[4 << 20], 0, 4 << 20, 65536)

        then:
        def e = thrown(IOException)
        e.message.startsWith('bad cluster at')
        finished.get() == running.get()
    }

    def "qcow2 images read the same with and without splitting"() {
        given:
        def dir = java.nio.file.Files.createTempDirectory('pr')
        def raw = dir.resolve('g.raw')
        byte[] data = new byte[6 << 20]
        new Random(5).nextBytes(data)
        Arrays.fill(data, 1 << 20, 2 << 20, (byte) 0)
        java.nio.file.Files.write(raw, data)
        def img = dir.resolve('g.qcow2')
        dev.qcow2.testing.Qemu.img(['convert', '-c', '-O', 'qcow2', raw.toString(), img.toString()])

        when:
        byte[] split = new byte[5 << 20]
        byte[] serial = new byte[5 << 20]
        Qcow2Image.open(img).withCloseable { it.read(4097L, split, 0, split.length) }
        System.setProperty('qcow2.parallelRead', 'false')
        Qcow2Image.open(img).withCloseable { it.read(4097L, serial, 0, serial.length) }

        then:
        Arrays.equals(split, serial)
        Arrays.equals(split, Arrays.copyOfRange(data, 4097, 4097 + split.length))

        cleanup:
        System.clearProperty('qcow2.parallelRead')
        dir?.toFile()?.deleteDir()
    }
}
