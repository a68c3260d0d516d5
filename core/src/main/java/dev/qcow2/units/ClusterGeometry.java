package dev.qcow2.units;

/**
 * The sizes that follow from the header's {@code cluster_bits}, {@code refcount_order} and the
 * extended-L2 feature bit (qcow2.rst "Cluster mapping", "Host cluster management").
 *
 * <p>Invariant: 9 &le; clusterBits &le; 21 and 0 &le; refcountOrder &le; 6; extended L2 needs
 * clusterBits &ge; 14 so that a subcluster (cluster/32) is at least 512 bytes.
 */
public record ClusterGeometry(int clusterBits, int refcountOrder, boolean extendedL2) {

    public static final int MIN_CLUSTER_BITS = 9;
    public static final int MAX_CLUSTER_BITS = 21;
    public static final int SUBCLUSTERS_PER_CLUSTER = 32;

    public ClusterGeometry {
        if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
            throw new IllegalArgumentException("cluster_bits " + clusterBits + " outside 9..21");
        }
        if (refcountOrder < 0 || refcountOrder > 6) {
            throw new IllegalArgumentException("refcount_order " + refcountOrder + " outside 0..6");
        }
    }

    public int clusterSize() { return 1 << clusterBits; }

    /** Bytes per L2 entry: 8, or 16 with extended L2 (64-bit entry + 64-bit subcluster bitmap). */
    public int l2EntrySize() { return extendedL2 ? 16 : 8; }

    /** Entries per L2 table: cluster_size / l2EntrySize. */
    public int l2Entries() { return clusterSize() / l2EntrySize(); }

    /** log2 of {@link #l2Entries()}. */
    public int l2Bits() { return clusterBits - (extendedL2 ? 4 : 3); }

    public int subclusterSize() { return extendedL2 ? clusterSize() / SUBCLUSTERS_PER_CLUSTER : clusterSize(); }

    public int subclustersPerCluster() { return extendedL2 ? SUBCLUSTERS_PER_CLUSTER : 1; }

    public int refcountBits() { return 1 << refcountOrder; }

    /** Refcount entries in one refcount block: cluster_size * 8 / refcount_bits. */
    public long refblockEntries() { return ((long) clusterSize() * 8) >>> refcountOrder; }

    /** Guest bytes covered by one L1 entry (one L2 table). */
    public long bytesPerL2Table() { return (long) l2Entries() << clusterBits; }

    public long offsetInCluster(long offset) { return offset & (clusterSize() - 1); }

    public boolean isClusterAligned(long offset) { return offsetInCluster(offset) == 0; }

    /** Number of clusters needed to hold {@code bytes}, rounding up. */
    public long clustersCovering(long bytes) {
        return (bytes + clusterSize() - 1) >>> clusterBits;
    }

    public long roundUpToCluster(long bytes) { return clustersCovering(bytes) << clusterBits; }
}
