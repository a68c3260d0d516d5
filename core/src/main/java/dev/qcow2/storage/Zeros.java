package dev.qcow2.storage;

/**
 * Zero-filling of byte arrays for the read and copy-on-write paths (unallocated, zero and
 * past-the-backing ranges). {@code Arrays.fill} is a plain byte loop unless the C2 compiler has
 * turned it into a vector store; the command-line app runs with C1 only, where copying from a
 * zero array ({@code System.arraycopy}, a memory-copy stub in every compiler tier) is several
 * times faster: {@code bench -w} of 100000 scattered 4 KiB writes spent 40% of its CPU in the
 * fill of each new cluster's untouched 60 KiB.
 */
public final class Zeros {
    private static final byte[] ZEROS = new byte[64 * 1024];

    private Zeros() { }

    /** Sets {@code buf[from, to)} to zero. */
    public static void fill(byte[] buf, int from, int to) {
        java.util.Objects.checkFromToIndex(from, to, buf.length);
        for (int at = from; at < to; at += ZEROS.length) {
            System.arraycopy(ZEROS, 0, buf, at, Math.min(ZEROS.length, to - at));
        }
    }
}
