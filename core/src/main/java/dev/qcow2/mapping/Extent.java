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
    GuestOffset guestOffset();

    long length();

    /** The guest offset just past this run. */
    default GuestOffset end() { return guestOffset().plus(length()); }

    /** Data at {@code hostOffset} in the data file (the image itself or its external data file). */
    record Data(GuestOffset guestOffset, long length, HostOffset hostOffset) implements Extent { }

    /** Reads as zeros; {@code hostOffset} is the preallocated cluster's bytes, or null when there is none. */
    record Zero(GuestOffset guestOffset, long length, HostOffset hostOffset) implements Extent {
        public Optional<HostOffset> preallocated() { return Optional.ofNullable(hostOffset); }
    }

    /**
     * Not allocated in this layer: the backing file supplies it (zeros without one).
     * {@code hostOffset} is non-null for an unallocated subcluster of an allocated cluster.
     */
    record Unallocated(GuestOffset guestOffset, long length, HostOffset hostOffset) implements Extent {
        public Optional<HostOffset> allocatedCluster() { return Optional.ofNullable(hostOffset); }
    }

    /** Part of one compressed cluster; {@code offsetInCluster} is where this run starts in it. */
    record Compressed(GuestOffset guestOffset, long length, L2Entry.Compressed entry, long offsetInCluster) implements Extent { }
}
