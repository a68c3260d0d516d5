package dev.qcow2.alloc;

import dev.qcow2.create.RefcountArea;
import dev.qcow2.create.RefcountMath;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;

/**
 * QEMU 7.2's {@link ReftableGrowth} (block/qcow2-refcount.c), run on the in-memory refcounts of
 * an image being created so that every structure lands where qemu-img puts it:
 * <ul>
 *   <li>alloc_refcount_block with a table too small: the missing refcount block is placed first,
 *       by first fit (alloc_clusters_noref), and must describe itself (otherwise the block of its
 *       own range is made first and the request starts over); then
 *       {@code qcow2_refcount_area(meta_offset, 0, false, index, new_block)} with
 *       {@code meta_offset} the first refcount block boundary past both the cluster being counted
 *       and the new block;</li>
 *   <li>qcow2_refcount_area ({@link #area}): refcount blocks for every range from
 *       {@code start_offset} on that has none, followed by the new table (exactly sized, or with
 *       qcow2_refcount_metadata_size's generous increase), covering the file up to there plus
 *       {@code additional_clusters}; the structures count themselves; the old table is freed and
 *       its bytes stay in its clusters;</li>
 *   <li>update_refcount's -EAGAIN: the search resumes at
 *       {@code MIN(free_cluster_index, start of the request)}.</li>
 * </ul>
 * {@code create}'s preallocation=falloc|full calls {@link #area} itself, as qcow2_co_truncate does.
 */
public final class QemuRefcountArea implements ReftableGrowth {
    private final NewImageRefcounts refcounts;
    private final ClusterGeometry geo;

    public QemuRefcountArea(NewImageRefcounts refcounts) {
        this.refcounts = refcounts;
        this.geo = refcounts.geometry();
    }

    @Override
    public boolean restartsAtSavedCursor() { return false; }

    @Override
    public void grow(ClusterAllocator allocator, int neededIndex, long cluster) throws IOException {
        long newBlock = allocator.placeBlock(neededIndex);
        if (newBlock < 0) return;
        // blocks_used: neither the cluster being counted nor new_block may get an area cluster
        long blocksUsed = RefcountMath.divRoundUp(Math.max(cluster + 1, newBlock + 1), geo.refblockEntries());
        area(allocator, (blocksUsed * geo.refblockEntries()) << geo.clusterBits(), 0, false, neededIndex,
                newBlock << geo.clusterBits());
    }

    /**
     * qcow2_refcount_area: new refcount blocks from {@code startOffset} on, then a new refcount
     * table after them, covering the file up to there plus {@code additionalClusters}; entry
     * {@code newRefblockIndex} names {@code newRefblockOffset} (unless 0). The old table is
     * freed. Returns the end of the new structures.
     */
    public long area(ClusterAllocator allocator, long startOffset, long additionalClusters, boolean exactSize,
                     int newRefblockIndex, long newRefblockOffset) throws IOException {
        long clusterSize = geo.clusterSize();
        long[] old = refcounts.tableCopy();
        RefcountArea plan = RefcountArea.plan(old, geo.clusterBits(), geo.refcountOrder(), startOffset,
                additionalClusters, exactSize, newRefblockIndex, newRefblockOffset);
        for (int i : plan.newBlocks()) refcounts.wrote(plan.table()[i], clusterSize);
        // the area's clusters (new blocks and the new table) count 1
        for (long c = startOffset / clusterSize; c < plan.endOffset() / clusterSize; c++) refcounts.setCached(c, 1);
        refcounts.wrote(plan.tableOffset(), plan.tableClusters() * clusterSize);

        long oldOffset = refcounts.tableOffset();
        refcounts.replaceTable(plan.tableOffset(), plan.table());
        allocator.free(oldOffset, old.length * 8L);
        return plan.endOffset();
    }
}
