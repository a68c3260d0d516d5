package dev.qcow2.image

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.ImageMatrix
import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * A 1 TiB sparse image with a few writes scattered over it (near 0, in the middle, across an
 * L2-table boundary, at the very end): the written ranges and some holes read as qemu-io reads
 * them. The disk is never read whole.
 */
class HugeSparseImageSpec extends Specification {
    static final long TiB = 1L << 40
    @Shared long seed = Long.getLong('qcow2.seed', System.nanoTime())
    @TempDir Path dir

    def setupSpec() { println "HugeSparseImageSpec seed=$seed (replay with -Dqcow2.seed=$seed)" }

    /** qemu-io's view of [offset, offset+length), parsed from {@code read -v}'s hex dump. */
    static byte[] qemuRead(Path img, long offset, int length) {
        def out = new ByteArrayOutputStream()
        Qemu.io(img, ["read -v $offset $length"]).out.eachLine { line ->
            def m = line =~ /^[0-9a-f]+:  ((?:[0-9a-f]{2} )+)/
            if (m.find()) m.group(1).trim().split(' ').each { out.write(Integer.parseInt(it, 16)) }
        }
        assert out.size() == length
        out.toByteArray()
    }

    def "1 TiB, #options: written ranges and holes read like qemu-io"() {
        given:
        def img = Qemu.create(dir.resolve('big.qcow2'), '1T', options)
        def l2Boundary = l2Span(options) * Math.min(5L, TiB.intdiv(l2Span(options)) - 1)
        def writes = [[12345L, 70000], [TiB.intdiv(2) + 777, 100000], [l2Boundary - 3000, 6000], [TiB - 8192, 8192]]
        ImageMatrix.io(img, ImageMatrix.patternFile(dir, seed), writes.collect { off, len -> "write PAT $off $len" }
                + ["write -z ${TiB.intdiv(2) + 4096} 1000", "discard ${TiB - 65536} 4096"])
        def probes = writes.collect { long off, int len -> [off - 100, (int) Math.min(len + 200, TiB - off + 100)] } +
                [[0L, 4096], [(long) (TiB * 0.3), 65536], [TiB - 70000, 70000]]
        def before = Sha256.of(img)

        when:
        def mismatched = []
        Qcow2Image.open(img).withCloseable { image ->
            assert image.size() == TiB
            probes.each { long off, int len ->
                if (!Arrays.equals(image.read(off, len), qemuRead(img, off, len))) mismatched << off
            }
        }

        then:
        mismatched == []
        Sha256.of(img) == before

        where:
        options << [null, 'cluster_size=4096', 'cluster_size=2M', 'extended_l2=on', 'compat=0.10']
    }

    /** Guest bytes covered by one L2 table. */
    static long l2Span(String options) {
        int clusterBits = options?.contains('4096') ? 12 : options?.contains('2M') ? 21 : 16
        int entryBits = options?.contains('extended_l2') ? 4 : 3
        1L << (clusterBits + clusterBits - entryBits)
    }
}
