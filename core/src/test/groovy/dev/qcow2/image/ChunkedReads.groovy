package dev.qcow2.image

/** Reads a whole device in chunks of varying size and alignment (test helper). */
class ChunkedReads {
    /** Chunk sizes that straddle sector, subcluster and cluster boundaries in every way. */
    static final int[] SIZES = [1, 7, 511, 512, 513, 4095, 4096, 65535, 65536, 65537, 200_003, 1 << 20, 3 << 20]

    static byte[] readAll(BlockDevice dev, Random rnd) {
        long size = dev.size()
        assert size <= Integer.MAX_VALUE: 'test images must be small'
        byte[] out = new byte[(int) size]
        long pos = 0
        while (pos < size) {
            int n = (int) Math.min(size - pos, SIZES[rnd.nextInt(SIZES.length)])
            // Read into the middle of the output array: bufOffset must be honoured.
            dev.read(pos, out, (int) pos, n)
            pos += n
        }
        out
    }

    /** Index of the first differing byte, or -1 (lengths differing count at the shorter length). */
    static long firstDifference(byte[] a, byte[] b) {
        int n = Math.min(a.length, b.length)
        int i = Arrays.mismatch(a, b)
        if (i < 0) return -1
        return i <= n ? i : -1
    }
}
