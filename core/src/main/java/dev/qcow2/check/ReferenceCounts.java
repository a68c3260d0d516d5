package dev.qcow2.check;

import dev.qcow2.format.RefcountBlockCodec;

import java.util.Arrays;

/**
 * The in-memory refcount table (QEMU's IMRT): one counter per host cluster, counting the
 * references found by walking the metadata. Counters saturate at the image's refcount_max
 * (2^refcount_bits - 1), as QEMU's do, so an overflow is reported exactly where qemu-img
 * reports it. Storage is one primitive array of the narrowest Java type that holds the
 * width: 2 bytes per cluster up to 16 bits, 4 for 32, 8 for 64.
 */
public final class ReferenceCounts {
    private final long max;
    private char[] narrow;     // refcount_bits <= 16
    private int[] medium;      // refcount_bits == 32
    private long[] wide;       // refcount_bits == 64
    private long size;

    ReferenceCounts(int refcountOrder, long initialClusters) {
        this.max = RefcountBlockCodec.max(refcountOrder);
        int capacity = (int) Math.max(16, initialClusters);
        int bits = 1 << refcountOrder;
        if (bits <= 16) narrow = new char[capacity];
        else if (bits == 32) medium = new int[capacity];
        else wide = new long[capacity];
        this.size = initialClusters;
    }

    /** Clusters covered: the file's clusters, grown when a reference lies just past the end. */
    public long size() { return size; }

    public long max() { return max; }

    public long get(long cluster) {
        if (cluster >= size) return 0;
        int i = (int) cluster;
        if (narrow != null) return narrow[i];
        if (medium != null) return Integer.toUnsignedLong(medium[i]);
        return wide[i];
    }

    /** Adds one reference; returns false (and leaves the count) if it is already at refcount_max. */
    boolean increment(long cluster) {
        if (cluster >= size) grow(cluster + 1);
        int i = (int) cluster;
        if (get(cluster) == max) return false;
        if (narrow != null) narrow[i]++;
        else if (medium != null) medium[i]++;
        else wide[i]++;
        return true;
    }

    /** Sets the count of {@code cluster} (at most refcount_max), growing the table if needed (used by repair's rebuild). */
    public void set(long cluster, long value) {
        if (cluster >= size) grow(cluster + 1);
        int i = (int) cluster;
        if (narrow != null) narrow[i] = (char) value;
        else if (medium != null) medium[i] = (int) value;
        else wide[i] = value;
    }

    private void grow(long newSize) {
        if (newSize > Integer.MAX_VALUE - 8) throw new OutOfMemoryError("refcount table of " + newSize + " clusters");
        int capacity = capacity();
        if (newSize > capacity) {
            int n = (int) Math.min(Integer.MAX_VALUE - 8, Math.max(newSize, capacity + (capacity >> 1)));
            if (narrow != null) narrow = Arrays.copyOf(narrow, n);
            else if (medium != null) medium = Arrays.copyOf(medium, n);
            else wide = Arrays.copyOf(wide, n);
        }
        size = newSize;
    }

    private int capacity() {
        return narrow != null ? narrow.length : medium != null ? medium.length : wide.length;
    }
}
