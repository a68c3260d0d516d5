package dev.qcow2.create;

/** Sizes of refcount metadata, as QEMU 7.2 computes them (block/qcow2-refcount.c). */
public final class RefcountMath {
    private RefcountMath() { }

    /**
     * qcow2_refcount_metadata_size: the fixed point of "refcount blocks and table clusters
     * needed to count {@code clusters} clusters plus themselves". With {@code generousIncrease}
     * the count is grown by half the table once more (room for later growth).
     *
     * @return {blocks, tableClusters}
     */
    public static long[] metadata(long clusters, long clusterSize, int refcountOrder, boolean generousIncrease) {
        long blocksPerTableCluster = clusterSize / 8;
        long refcountsPerBlock = clusterSize * 8 / (1L << refcountOrder);
        long table = 0;
        long blocks = 0;
        long last;
        long n = 0;
        do {
            last = n;
            blocks = divRoundUp(clusters + table + blocks, refcountsPerBlock);
            table = divRoundUp(blocks, blocksPerTableCluster);
            n = clusters + blocks + table;
            if (n == last && generousIncrease) {
                clusters += divRoundUp(table, 2);
                n = 0;
                generousIncrease = false;
            }
        } while (n != last);
        return new long[]{blocks, table};
    }

    public static long divRoundUp(long a, long b) { return (a + b - 1) / b; }
}
