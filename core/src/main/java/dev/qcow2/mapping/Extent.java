package dev.qcow2.mapping;

import dev.qcow2.format.L2Entry;

/**
 * What a run of guest bytes maps to in one image layer: the result of a guest-to-host lookup.
 * Every variant knows its guest start and length; runs never cross a change of kind or a
 * discontinuity in host offsets.
 */
public sealed interface Extent {
    long guestOffset();

    long length();

    /** Data at {@code hostOffset} in the data file (the image itself or its external data file). */
    record Data(long guestOffset, long length, long hostOffset) implements Extent { }

    /** Reads as zeros; {@code hostOffset} &gt;= 0 when the cluster is preallocated, else -1. */
    record Zero(long guestOffset, long length, long hostOffset) implements Extent { }

    /**
     * Not allocated in this layer: the backing file supplies it (zeros without one).
     * {@code hostOffset} &gt;= 0 for an unallocated subcluster of an allocated cluster.
     */
    record Unallocated(long guestOffset, long length, long hostOffset) implements Extent { }

    /** Part of one compressed cluster; {@code offsetInCluster} is where this run starts in it. */
    record Compressed(long guestOffset, long length, L2Entry.Compressed entry, long offsetInCluster) implements Extent { }
}
