package dev.qcow2.alloc;

import dev.qcow2.ImageLimitException;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.RefcountBlockCodec;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The writer's {@link ReftableGrowth}: a full refcount table grows as in QEMU up to 2.9's
 * alloc_refcount_block (before qcow2_refcount_area): the new table gains at least half the old
 * size, and one area holds the refcount blocks that describe the area itself followed by the new
 * table. The area starts past every cluster the old table can describe and past the end of the
 * file, so it is free without a search. (QEMU 7.2 first places the missing block by first fit
 * and starts the area at the next refcount block boundary: {@link QemuRefcountArea}, used by
 * create.) Order: area blocks written, new table written, both flushed; then the header names
 * the new table (one atomic write), flushed; only then is the old table freed. A crash at any
 * point leaves either the old or the new table in force, at worst with leaked clusters.
 */
final class AppendedRefcountArea implements ReftableGrowth {
    private final SyncedStorage storage;
    private final RefcountStore refcounts;
    private final ClusterGeometry geo;

    AppendedRefcountArea(SyncedStorage storage, RefcountStore refcounts) {
        this.storage = storage;
        this.refcounts = refcounts;
        this.geo = refcounts.geometry();
    }

    @Override
    public boolean restartsAtSavedCursor() { return true; }

    /** Grows the table so that it has an entry {@code neededIndex}; {@code cluster} plays no part. */
    @Override
    public void grow(ClusterAllocator allocator, int neededIndex, long cluster) throws IOException {
        int cs = geo.clusterSize();
        long perBlock = refcounts.entriesPerBlock();
        long fileClusters = geo.clustersCovering(storage.length());
        // Every cluster in use has a refcount, hence lies below coveredClusters: the area is free.
        long areaStart = Math.max(refcounts.coveredClusters(), fileClusters);
        long oldEntries = refcounts.tableEntries();
        long entries = Math.max(neededIndex + 1L, oldEntries + oldEntries / 2 + 1);
        long firstIndex = areaStart / perBlock;
        long blockCount, tableClusters;
        while (true) {
            tableClusters = (entries * 8 + cs - 1) / cs;
            blockCount = 1;
            long lastIndex;
            while (true) {
                lastIndex = (areaStart + blockCount + tableClusters - 1) / perBlock;
                long need = lastIndex - firstIndex + 1;
                if (need <= blockCount) break;
                blockCount = need;
            }
            if (entries >= lastIndex + 1) break;
            entries = lastIndex + 1;
        }
        entries = tableClusters * cs / 8;
        if (tableClusters * cs > Qcow2Header.MAX_REFTABLE_BYTES) {
            throw new ImageLimitException(storage.describe(), "refcount table would grow beyond "
                    + Qcow2Header.MAX_REFTABLE_BYTES + " bytes");
        }
        long areaEnd = areaStart + blockCount + tableClusters;
        long[] table = new long[(int) entries];
        long[] old = refcounts.tableCopy();
        System.arraycopy(old, 0, table, 0, old.length);
        for (long j = 0; j < blockCount; j++) {
            long blockCluster = areaStart + j;
            long describedFirst = (firstIndex + j) * perBlock;
            byte[] content = new byte[cs];
            for (long c = Math.max(describedFirst, areaStart); c < Math.min(describedFirst + perBlock, areaEnd); c++) {
                RefcountBlockCodec.set(content, geo.refcountOrder(), c - describedFirst, 1);
            }
            refcounts.writeBlock(blockCluster << geo.clusterBits(), content);
            table[(int) (firstIndex + j)] = blockCluster << geo.clusterBits();
        }
        long tableOffset = (areaStart + blockCount) << geo.clusterBits();
        ByteBuffer bytes = ByteBuffer.allocate((int) (tableClusters * cs));
        bytes.asLongBuffer().put(table);
        storage.write(tableOffset, bytes.array());
        storage.barrier();
        HeaderPatch.refcountTable(storage, tableOffset, (int) tableClusters);
        storage.barrier();
        long oldOffset = refcounts.tableOffset();
        int oldClusters = refcounts.tableClusters();
        refcounts.replaceTable(tableOffset, table);
        allocator.free(oldOffset, (long) oldClusters * cs);
    }
}
