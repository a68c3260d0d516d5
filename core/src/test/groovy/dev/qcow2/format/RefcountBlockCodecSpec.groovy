package dev.qcow2.format

import dev.qcow2.testing.Sha256

import dev.qcow2.storage.FileStorage
import dev.qcow2.testing.ImageMatrix
import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * Refcount block entries of every width (qcow2.rst "Host cluster management"): sub-byte widths
 * fill each byte from its least significant bits; 8..64-bit entries are big-endian. Checked
 * against hand-made blocks, a reference encoder written from the spec, and real images.
 */
class RefcountBlockCodecSpec extends Specification {
    @Shared long seed = Long.getLong('qcow2.seed', System.nanoTime())
    @TempDir Path dir

    def setupSpec() { println "RefcountBlockCodecSpec seed=$seed (replay with -Dqcow2.seed=$seed)" }

    def "order #order: block #block decodes to #values"() {
        expect:
        (0..<values.size()).collect { RefcountBlockCodec.get(block as byte[], order, it) } == values

        where:
        order | block                                  || values
        0     | [0b1010_0101]                          || [1, 0, 1, 0, 0, 1, 0, 1]
        1     | [0b1110_0100]                          || [0, 1, 2, 3]
        2     | [0x21, 0xf0]                           || [1, 2, 0, 15]
        3     | [0, 1, 0xff]                           || [0, 1, 255]
        4     | [0, 1, 0x12, 0x34, 0xff, 0xff]         || [1, 0x1234, 0xffff]
        5     | [0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef]   || [1, 0xdeadbeefL]
        6     | [0, 0, 0, 0, 0, 0, 0, 2, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] || [2, Long.MAX_VALUE]
    }

    def "order #order: random entries round-trip through a spec-written encoder; max is 2^bits - 1"() {
        given:
        int bits = 1 << order
        def rnd = new Random(seed + order)
        int entries = 512 * 8 / bits
        long[] values = (0..<entries).collect { bits == 64 ? rnd.nextLong() : rnd.nextLong() & ((1L << bits) - 1) }
        byte[] block = encode(values, bits)

        expect:
        (0..<entries).every { RefcountBlockCodec.get(block, order, it) == values[it] }
        RefcountBlockCodec.max(order) == (bits == 64 ? -1L : (1L << bits) - 1)

        where:
        order << (0..6)
    }

    /** The spec's layout, written independently of the codec. */
    static byte[] encode(long[] values, int bits) {
        byte[] out = new byte[values.length * bits / 8]
        values.eachWithIndex { long v, int i ->
            if (bits < 8) {
                out[(int) (i * bits / 8)] |= (byte) (v << ((i * bits) % 8))
            } else {
                int bytes = bits / 8
                for (int k = 0; k < bytes; k++) out[i * bytes + k] = (byte) (v >>> (8 * (bytes - 1 - k)))
            }
        }
        out
    }

    def "refcount_bits #bits: a real image's refcounts are 1 for every cluster, 2 for snapshot-shared ones"() {
        given: 'an image with data, and (when 2 fits) a snapshot sharing every data cluster and the L2 table'
        def img = Qemu.create(dir.resolve('img.qcow2'), '4M', "refcount_bits=$bits,cluster_size=4096")
        ImageMatrix.io(img, ImageMatrix.patternFile(dir, seed), ['write PAT 0 100000', 'write PAT 1000000 300000'])
        if (bits > 1) Qemu.img('snapshot', '-c', 's', img.toString())
        def check = Qemu.img(['check', '--output=json', img.toString()], false).json()
        long clusters = check.'image-end-offset'.intdiv(4096)
        def before = Sha256.of(img)

        when:
        Map<Long, Long> histogram = [:].withDefault { 0L }
        FileStorage.openReadOnly(img).withCloseable { s ->
            def h = Qcow2Header.read(s)
            long[] table = dev.qcow2.mapping.ClusterMapper.readTable(s, h.refcountTableOffset(), (int) (h.refcountTableClusters() * 4096 / 8))
            long perBlock = h.geometry().refblockEntries()
            table.eachWithIndex { long refblock, int i ->
                if (refblock == 0) return
                byte[] block = s.read(refblock, 4096)
                for (long j = 0; j < perBlock && i * perBlock + j < clusters; j++) histogram[RefcountBlockCodec.get(block, h.refcountOrder(), j)]++
            }
        }

        then: 'no cluster below the image end is free, as qemu-img check (no leaks, no corruptions) implies'
        check.leaks == null && check.corruptions == null
        histogram[0L] == 0
        bits == 1 ? histogram[1L] == clusters
                : histogram[2L] == check.'allocated-clusters' + 1 && histogram[1L] == clusters - histogram[2L]
        Sha256.of(img) == before

        where:
        bits << [1, 2, 4, 8, 16, 32, 64]
    }
}
