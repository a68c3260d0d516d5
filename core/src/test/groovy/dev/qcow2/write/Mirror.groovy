package dev.qcow2.write

import dev.qcow2.testing.Qemu

import java.nio.file.Files
import java.nio.file.Path

/**
 * The expected guest content of an image under test: a plain byte array that every operation is
 * applied to as well, with QEMU's semantics (discard touches whole clusters only and exposes the
 * backing file on v2). {@link #verify} runs {@code qemu-img check} (exit 0) and
 * {@code qemu-img compare} of the image against the mirror.
 */
class Mirror {
    final byte[] bytes
    final byte[] backing
    final int clusterSize
    final int version

    Mirror(long size, int clusterSize, int version = 3, byte[] backing = null) {
        this.bytes = new byte[(int) size]
        this.clusterSize = clusterSize
        this.version = version
        this.backing = backing
        if (backing != null) System.arraycopy(backing, 0, bytes, 0, Math.min(backing.length, bytes.length))
    }

    void write(long off, byte[] data) { System.arraycopy(data, 0, bytes, (int) off, data.length) }

    void zero(long off, long len) { Arrays.fill(bytes, (int) off, (int) (off + len), (byte) 0) }

    void discard(long off, long len) {
        long end = Math.min(off + len, bytes.length)
        long c = ((off + clusterSize - 1).intdiv(clusterSize)) * clusterSize
        while (c < end) {
            long ce = Math.min(c + clusterSize, bytes.length)
            if (ce > end) break
            for (long i = c; i < ce; i++) {
                bytes[(int) i] = (version < 3 && backing != null && i < backing.length) ? backing[(int) i] : 0
            }
            c += clusterSize
        }
    }

    /** Asserts qemu-img check is clean and the image's guest bytes equal the mirror. */
    void verify(Path image, Path dir) {
        def check = Qemu.img(['check', image.toString()], false)
        assert check.exit == 0: "qemu-img check: $check"
        def raw = dir.resolve('mirror.raw')
        Files.write(raw, bytes)
        def cmp = Qemu.img(['compare', '-f', 'qcow2', '-F', 'raw', image.toString(), raw.toString()], false)
        assert cmp.exit == 0: "qemu-img compare: $cmp"
        Files.delete(raw)
    }

    @groovy.transform.CompileStatic
    static byte[] pattern(long seed, int len) {
        def rnd = new Random(seed)
        byte[] b = new byte[len]
        int i = 0
        while (i < len) {
            byte v = (byte) rnd.nextInt(256)
            int run = 1 + rnd.nextInt(8)
            for (int k = 0; k < run && i < len; k++) b[i++] = v
        }
        b
    }
}
