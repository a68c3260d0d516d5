package dev.qcow2.mapping;

import dev.qcow2.format.L2Entry;
import dev.qcow2.units.GuestOffset;
import dev.qcow2.units.HostOffset;

import java.util.Optional;

/**
 * What a run of guest bytes maps to in one image layer: the result of a guest-to-host lookup.
 * Every variant knows its guest start and length; runs never cross a change of kind or a
 * discontinuity in host offsets.
 */
public sealed interface Extent {
    long guestOffset();

    long length();

    /** The typed start of this run in guest space. */
    default GuestOffset guest() { return new GuestOffset(guestOffset()); }

    /** Data at {@code hostOffset} in the data file (the image itself or its external data file). */
    record Data(long guestOffset, long length, long hostOffset) implements Extent {
        public HostOffset host() { return new HostOffset(hostOffset); }
    }

    /** Reads as zeros; {@code hostOffset} &gt;= 0 when the cluster is preallocated, else -1. */
    record Zero(long guestOffset, long length, long hostOffset) implements Extent {
        public Optional<HostOffset> preallocated() { return hostOffset < 0 ? Optional.empty() : Optional.of(new HostOffset(hostOffset)); }
    }

    /**
     * Not allocated in this layer: the backing file supplies it (zeros without one).
     * {@code hostOffset} &gt;= 0 for an unallocated subcluster of an allocated cluster.
     */
    record Unallocated(long guestOffset, long length, long hostOffset) implements Extent {
        public Optional<HostOffset> allocatedCluster() { return hostOffset < 0 ? Optional.empty() : Optional.of(new HostOffset(hostOffset)); }
    }

    /** Part of one compressed cluster; {@code offsetInCluster} is where this run starts in it. */
    record Compressed(long guestOffset, long length, L2Entry.Compressed entry, long offsetInCluster) implements Extent { }
}
