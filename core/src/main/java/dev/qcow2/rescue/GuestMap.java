package dev.qcow2.rescue;

import java.util.Arrays;

/**
 * The rescued guest: per guest cluster, where its content comes from (an L2 descriptor word and,
 * with extended L2, its subcluster bitmap) and by which {@link Placement}. Per-cluster arrays,
 * grown on demand (bounded by the guest size the evidence names).
 */
final class GuestMap {
    static final byte NONE = -1;
    private long[] raw = new long[1024];
    private long[] bitmap = new long[1024];
    private byte[] method = filled(1024);
    private long highest = -1;

    private static byte[] filled(int n) { byte[] b = new byte[n]; Arrays.fill(b, NONE); return b; }

    private void ensure(long cluster) {
        if (cluster < method.length) return;
        int n = (int) Math.min(Integer.MAX_VALUE - 8, Math.max(cluster + 1, (long) method.length * 2));
        // 17 bytes per guest cluster: never more than half the heap (a placement past any sane
        // guest size is a wrong inference; the rescue stops with one line instead of running out of memory)
        if (cluster >= Integer.MAX_VALUE - 8 || (long) n * 17 > Runtime.getRuntime().maxMemory() / 2) {
            throw new TooLarge("guest cluster " + cluster + " is past what this rescue can map in memory (" + (Runtime.getRuntime().maxMemory() >> 20) + " MiB heap)");
        }
        int old = method.length;
        raw = Arrays.copyOf(raw, n);
        bitmap = Arrays.copyOf(bitmap, n);
        method = Arrays.copyOf(method, n);
        Arrays.fill(method, old, n, NONE);
    }

    /** A guest position too large to map (see {@link #ensure}). */
    static final class TooLarge extends RuntimeException {
        TooLarge(String message) { super(message); }
    }

    boolean placed(long cluster) { return cluster < method.length && method[(int) cluster] != NONE; }

    Placement method(long cluster) { return placed(cluster) ? Placement.values()[method[(int) cluster]] : null; }

    long raw(long cluster) { return raw[(int) cluster]; }

    long bitmap(long cluster) { return bitmap[(int) cluster]; }

    void place(long cluster, long descriptor, long subclusterBitmap, Placement how) {
        ensure(cluster);
        raw[(int) cluster] = descriptor;
        bitmap[(int) cluster] = subclusterBitmap;
        method[(int) cluster] = (byte) how.ordinal();
        highest = Math.max(highest, cluster);
    }

    void clear(long cluster) {
        if (cluster < method.length) method[(int) cluster] = NONE;
    }

    /** One past the highest cluster ever placed. */
    long extent() { return highest + 1; }

    long capacity() { return method.length; }
}
