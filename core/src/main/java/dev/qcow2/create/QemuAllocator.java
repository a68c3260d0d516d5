package dev.qcow2.create;

import dev.qcow2.alloc.FreeClusterSearch;
import dev.qcow2.format.RefcountBlockCodec;

import java.util.BitSet;
import java.util.Map;
import java.util.TreeMap;

/**
 * QEMU 7.2's host cluster allocator (block/qcow2-refcount.c) replayed in memory on a new image,
 * so the image we write has every structure at the offset qemu-img would put it:
 * alloc_clusters_noref's first-fit scan from free_cluster_index, update_refcount with its
 * -EAGAIN restart and rollback, alloc_refcount_block (self-describing blocks, reftable growth
 * through qcow2_refcount_area) and qcow2_alloc_clusters_at.
 *
 * <p>On a new image every refcount is 0 or 1, so the refblocks' contents are one bit per
 * cluster; {@link #refcountBlock} encodes them at the image's refcount width.
 */
final class QemuAllocator {
    /** -EAGAIN of update_refcount / alloc_refcount_block: the caller restarts its search. */
    private static final boolean EAGAIN = false;

    final int clusterBits;
    final long clusterSize;
    final int refcountOrder;
    private final int refblockBits;
    private final BitSet used = new BitSet();
    long[] reftable;
    long reftableOffset;
    /** free_cluster_index and alloc_clusters_noref's first fit: the writer's search. */
    private final FreeClusterSearch search = new FreeClusterSearch();
    /** Bytes left behind in freed clusters (an old refcount table), keyed by host offset. */
    final Map<Long, byte[]> stale = new TreeMap<>();
    /** The end of the furthest write so far: the file's length. */
    long fileEnd;

    QemuAllocator(int clusterBits, int refcountOrder) {
        this.clusterBits = clusterBits;
        this.clusterSize = 1L << clusterBits;
        this.refcountOrder = refcountOrder;
        this.refblockBits = clusterBits + 3 - refcountOrder;
    }

    long refblockEntries() { return 1L << refblockBits; }

    void wrote(long offset, long length) { fileEnd = Math.max(fileEnd, offset + length); }

    /** qcow2_get_refcount on a new image: 0 where no refcount block covers the cluster. */
    long refcount(long clusterIndex) {
        long ti = clusterIndex >>> refblockBits;
        if (ti >= reftable.length || reftable[(int) ti] == 0) return 0;
        return used.get(index(clusterIndex)) ? 1 : 0;
    }

    /** alloc_clusters_noref: the first run of {@code nb} clusters with refcount 0 from free_cluster_index. */
    long allocNoref(long nb) {
        return search.find(nb, this::refcount) << clusterBits;
    }

    /** qcow2_alloc_clusters. */
    long allocClusters(long bytes) {
        long nb = RefcountMath.divRoundUp(bytes, clusterSize);
        while (true) {
            long offset = allocNoref(nb);
            if (updateRefcount(offset, nb << clusterBits, false)) return offset;
        }
    }

    /** qcow2_alloc_clusters_at: as many of {@code nb} clusters at {@code offset} as are free. */
    long allocClustersAt(long offset, long nb) {
        while (true) {
            long i = 0;
            long index = offset >>> clusterBits;
            while (i < nb && refcount(index + i) == 0) i++;
            if (updateRefcount(offset, i << clusterBits, false)) return i;
        }
    }

    /** qcow2_free_clusters. */
    void free(long offset, long bytes) {
        updateRefcount(offset, bytes, true);
    }

    /** update_refcount with addend 1 (or -1 when {@code decrease}); false is -EAGAIN after rollback. */
    boolean updateRefcount(long offset, long length, boolean decrease) {
        if (length <= 0) return true;
        long start = offset >>> clusterBits;
        long last = (offset + length - 1) >>> clusterBits;
        long oldTableIndex = -1;
        for (long c = start; c <= last; c++) {
            long ti = c >>> refblockBits;
            if (ti != oldTableIndex && allocRefcountBlock(c) == EAGAIN) {
                search.freed(start);
                if (c > start) updateRefcount(offset, (c - start) << clusterBits, !decrease);
                return EAGAIN;
            }
            oldTableIndex = ti;
            used.set(index(c), !decrease);
            if (decrease) search.freed(c);
        }
        return true;
    }

    /** alloc_refcount_block: makes sure a refcount block covers {@code clusterIndex}. */
    private boolean allocRefcountBlock(long clusterIndex) {
        long ti = clusterIndex >>> refblockBits;
        if (ti < reftable.length && reftable[(int) ti] != 0) return true;

        long newBlock = allocNoref(1);
        long newBlockIndex = newBlock >>> clusterBits;
        if ((newBlockIndex >>> refblockBits) == ti) {
            used.set(index(newBlockIndex));                   // the block describes itself
        } else if (!updateRefcount(newBlock, clusterSize, false)) {
            return EAGAIN;
        }
        wrote(newBlock, clusterSize);
        if (ti < reftable.length) {
            reftable[(int) ti] = newBlock;
            return EAGAIN;
        }
        long blocksUsed = RefcountMath.divRoundUp(Math.max(clusterIndex + 1, newBlockIndex + 1), refblockEntries());
        refcountArea(blocksUsed * refblockEntries() * clusterSize, 0, false, (int) ti, newBlock);
        return EAGAIN;
    }

    /** qcow2_refcount_area ({@link RefcountArea}) applied in memory; returns the end of the new structures. */
    long refcountArea(long startOffset, long additionalClusters, boolean exactSize, int newRefblockIndex,
                      long newRefblockOffset) {
        RefcountArea area = RefcountArea.plan(reftable, clusterBits, refcountOrder, startOffset, additionalClusters,
                exactSize, newRefblockIndex, newRefblockOffset);
        for (int i : area.newBlocks()) wrote(area.table()[i], clusterSize);
        for (long c = startOffset / clusterSize; c < area.endOffset() / clusterSize; c++) used.set(index(c));
        wrote(area.tableOffset(), area.tableClusters() * clusterSize);

        long oldOffset = reftableOffset;
        long oldSize = reftable.length;
        stale.put(oldOffset, tableBytes(reftable));
        reftable = area.table();
        reftableOffset = area.tableOffset();
        free(oldOffset, oldSize * 8);
        return area.endOffset();
    }

    /** qcow2_get_last_cluster: the highest cluster below {@code size} clusters with a refcount. */
    long lastUsedCluster(long size) {
        for (long i = size - 1; i >= 0; i--) if (refcount(i) != 0) return i;
        return -1;
    }

    /** Contents of the refcount block for reftable index {@code ti}. */
    byte[] refcountBlock(long ti) {
        byte[] block = new byte[(int) clusterSize];
        long first = ti << refblockBits;
        long end = Math.min(first + refblockEntries(), (long) Integer.MAX_VALUE);
        for (int c = used.nextSetBit(index(first)); c >= 0 && c < end; c = used.nextSetBit(c + 1)) {
            RefcountBlockCodec.set(block, refcountOrder, c - first, 1);
        }
        return block;
    }

    static byte[] tableBytes(long[] entries) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(entries.length * 8);   // big-endian, as qcow2
        for (long e : entries) b.putLong(e);
        return b.array();
    }

    private static int index(long clusterIndex) {
        if (clusterIndex > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("The image is too large to lay out (more than 2^31 host clusters)");
        }
        return (int) clusterIndex;
    }
}
