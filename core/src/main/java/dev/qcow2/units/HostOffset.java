package dev.qcow2.units;

import java.util.Optional;

/** A byte offset in the image file (or its external data file). Never mixed with guest offsets. */
public record HostOffset(long value) implements Comparable<HostOffset> {

    public HostOffset {
        if (value < 0) throw new IllegalArgumentException("negative host offset " + value);
    }

    public static HostOffset of(long value) { return new HostOffset(value); }

    /** The cluster containing this offset (aligned or not). */
    public HostCluster cluster(ClusterGeometry geo) { return new HostCluster(value >>> geo.clusterBits()); }

    /** The cluster starting exactly here, or empty if this offset is not cluster-aligned. */
    public Optional<HostCluster> alignedCluster(ClusterGeometry geo) {
        return geo.isClusterAligned(value) ? Optional.of(cluster(geo)) : Optional.empty();
    }

    public HostOffset plus(long bytes) { return new HostOffset(Math.addExact(value, bytes)); }

    public boolean isZero() { return value == 0; }

    @Override public int compareTo(HostOffset o) { return Long.compare(value, o.value); }

    @Override public String toString() { return "host@0x" + Long.toHexString(value); }
}
