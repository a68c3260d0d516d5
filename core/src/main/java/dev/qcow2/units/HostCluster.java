package dev.qcow2.units;

/** The index of a host cluster (host offset / cluster_size). */
public record HostCluster(long index) implements Comparable<HostCluster> {

    public HostCluster {
        if (index < 0) throw new IllegalArgumentException("negative host cluster " + index);
    }

    public HostOffset offset(ClusterGeometry geo) { return new HostOffset(index << geo.clusterBits()); }

    public HostCluster plus(long clusters) { return new HostCluster(Math.addExact(index, clusters)); }

    /** Number of clusters from {@code other} to this one. */
    public long minus(HostCluster other) { return index - other.index; }

    @Override public int compareTo(HostCluster o) { return Long.compare(index, o.index); }

    @Override public String toString() { return "cluster#" + index; }
}
