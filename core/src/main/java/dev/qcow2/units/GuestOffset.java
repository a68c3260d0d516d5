package dev.qcow2.units;

/** A byte offset in the guest-visible (virtual) disk. Never mixed with host offsets. */
public record GuestOffset(long value) implements Comparable<GuestOffset> {

    public GuestOffset {
        if (value < 0) throw new IllegalArgumentException("negative guest offset " + value);
    }

    public static GuestOffset of(long value) { return new GuestOffset(value); }

    /** Index of the guest cluster holding this offset. */
    public long guestCluster(ClusterGeometry geo) { return value >>> geo.clusterBits(); }

    /** l1_index = (offset / cluster_size) / l2_entries. */
    public int l1Index(ClusterGeometry geo) { return (int) (value >>> (geo.clusterBits() + geo.l2Bits())); }

    /** l2_index = (offset / cluster_size) % l2_entries. */
    public int l2Index(ClusterGeometry geo) { return (int) (guestCluster(geo) & (geo.l2Entries() - 1)); }

    public int subclusterIndex(ClusterGeometry geo) {
        return (int) (geo.offsetInCluster(value) / geo.subclusterSize());
    }

    public long offsetInCluster(ClusterGeometry geo) { return geo.offsetInCluster(value); }

    public GuestOffset plus(long bytes) { return new GuestOffset(Math.addExact(value, bytes)); }

    @Override public int compareTo(GuestOffset o) { return Long.compare(value, o.value); }

    @Override public String toString() { return "guest@0x" + Long.toHexString(value); }
}
