package dev.qcow2.codec

import dev.qcow2.format.CompressionType
import io.airlift.compress.zstd.ZstdCompressor
import spock.lang.Shared
import spock.lang.Specification

/**
 * zstd clusters as QEMU's qcow2_zstd_decompress accepts them: one or more frames (skippable ones
 * too) that produce exactly one cluster, followed by anything (the rest of the last sector: zeros
 * or the next compressed cluster's bytes), which is never decoded.
 */
class ZstdClusterDecompressorSpec extends Specification {
    @Shared long seed = Long.getLong('qcow2.seed', System.nanoTime())
    @Shared ClusterDecompressor zstd = ClusterDecompressor.of(CompressionType.ZSTD)
    @Shared ClusterDecompressor javaZstd = new ZstdClusterDecompressor(false)

    def setupSpec() {
        println "ZstdClusterDecompressorSpec seed=$seed (replay with -Dqcow2.seed=$seed)"
        // Debian's libzstd1 comes with qemu-utils, which CI installs: the native decoder must be there
        assert NativeZstd.linkNow(): 'libzstd.so.1 could not be linked'
        assert NativeZstd.decoder() != null
    }

    static byte[] frame(byte[] data, int off = 0, int len = data.length) {
        def c = new ZstdCompressor()
        byte[] out = new byte[c.maxCompressedLength(len)]
        int n = c.compress(data, off, len, out, 0, out.length)
        Arrays.copyOf(out, n)
    }

    byte[] cluster(int size) {
        def rnd = new Random(seed + size)
        byte[] b = new byte[size]
        for (int i = 0; i < size; i++) b[i] = (byte) (97 + rnd.nextInt(rnd.nextBoolean() ? 2 : 20))
        b
    }

    def "#label (cluster #size B) -> #expected, by libzstd and by the Java decoder"() {
        given:
        byte[] want = cluster(size)
        byte[] input = build(want)
        byte[] out = new byte[size]
        byte[] javaOut = new byte[size]

        expect:
        zstd.decompress(input, input.length, out) == expected
        !expected || Arrays.equals(out, want)
        javaZstd.decompress(input, input.length, javaOut) == expected
        !expected || Arrays.equals(javaOut, want)
        zstd.streamLength(input, input.length, out) == javaZstd.streamLength(input, input.length, javaOut)

        where:
        label                                 | size    | build                                                                  || expected
        'one frame'                           | 4096    | { byte[] d -> frame(d) }                                               || true
        'one frame + zero padding'            | 4096    | { byte[] d -> cat(frame(d), new byte[300]) }                               || true
        'one frame + next cluster\'s frame'   | 512     | { byte[] d -> cat(frame(d), frame(d)) }                                    || true
        'one frame + garbage'                 | 65536   | { byte[] d -> cat(frame(d), [1, 2, 3, 4, 5, 6, 7, 8, 9] as byte[]) }       || true
        'two frames, half each'               | 65536   | { byte[] d -> cat(frame(d, 0, 32768), frame(d, 32768, 32768), new byte[17]) } || true
        'skippable frame first'               | 4096    | { byte[] d -> cat(skippable(5), frame(d)) }                                || true
        '2 MiB cluster'                       | 2 << 20 | { byte[] d -> cat(frame(d), new byte[511]) }                               || true
        'frame too short for the cluster'     | 4096    | { byte[] d -> cat(frame(d, 0, 4000), new byte[100]) }                      || false
        'frame longer than the cluster'       | 4096    | { byte[] d -> frame(cat(d, d)) }                                           || false
        'truncated frame'                     | 4096    | { byte[] d -> byte[] f = frame(d); Arrays.copyOf(f, f.length - 3) }    || false
        'not zstd'                            | 4096    | { byte[] d -> new byte[600] }                                          || false
        'empty'                               | 4096    | { byte[] d -> new byte[0] }                                            || false
    }

    def "random clusters: both decoders agree; damaged input never throws"() {
        given:
        def rnd = new Random(seed)

        expect:
        (1..200).every { i ->
            int size = 512 << rnd.nextInt(8)
            byte[] want = new byte[size]
            int alphabet = 1 + rnd.nextInt(255)
            for (int k = 0; k < size; k++) want[k] = (byte) rnd.nextInt(alphabet)
            byte[] input = cat(frame(want), new byte[rnd.nextInt(512)])
            byte[] a = new byte[size], b = new byte[size]
            assert zstd.streamLength(input, input.length, a) == javaZstd.streamLength(input, input.length, b)
            assert Arrays.equals(a, want) && Arrays.equals(b, want)
            // a damaged copy: a verdict from each, never an exception
            byte[] bad = input.clone()
            bad[rnd.nextInt(bad.length)] ^= (byte) (1 + rnd.nextInt(255))
            zstd.decompress(bad, bad.length, a)
            javaZstd.decompress(bad, bad.length, b)
            true
        }
    }

    static byte[] cat(byte[]... parts) {
        def out = new ByteArrayOutputStream()
        parts.each { out.write(it) }
        out.toByteArray()
    }

    static byte[] skippable(int payload) {
        byte[] b = new byte[8 + payload]
        [0x50, 0x2a, 0x4d, 0x18, payload, 0, 0, 0].eachWithIndex { v, i -> b[i] = (byte) v }
        b
    }
}
