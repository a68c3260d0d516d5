package dev.qcow2.resize;

import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.HeaderPatch;
import dev.qcow2.alloc.RefcountStore;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.create.Preallocation;
import dev.qcow2.create.Preallocator;
import dev.qcow2.create.RefcountArea;
import dev.qcow2.format.RefcountBlockCodec;
import dev.qcow2.storage.Fallocate;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.write.ResizeHooks;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * An open image as the target of the one {@link Preallocator}: the writer's allocator
 * (first fit, {@link ClusterAllocator#allocateAt}), its L2 tables ({@link ResizeHooks}), and
 * qcow2_refcount_area ({@link RefcountArea}) applied on disk.
 */
final class OpenImagePreallocation implements Preallocator.Target {
    private final ResizeHooks hooks;
    private final SyncedStorage storage;
    private final ClusterAllocator allocator;
    private final RefcountStore refcounts;
    private final ClusterGeometry geo;

    OpenImagePreallocation(ResizeHooks hooks, ClusterGeometry geo) {
        this.hooks = hooks;
        this.storage = hooks.storage();
        this.allocator = hooks.allocator();
        this.refcounts = allocator.refcounts();
        this.geo = geo;
    }

    @Override public int clusterBits() { return geo.clusterBits(); }

    @Override public long l2Entries() { return geo.l2Entries(); }

    /** The writer refuses images with an external data file. */
    @Override public boolean externalData() { return false; }

    @Override public long allocClusters(long bytes) throws IOException { return allocator.allocate(bytes); }

    @Override public long allocClustersAt(long offset, long nb) throws IOException { return allocator.allocateAt(offset, nb); }

    @Override public long copiedHost(long guestCluster) throws IOException { return hooks.copiedHost(guestCluster); }

    @Override public void clusterTable(long guest) throws IOException { hooks.clusterTable(guest); }

    @Override
    public Preallocator.Cow cowRegions(long guestCluster, long nb, long from, long to) throws IOException {
        long[] r = hooks.cowRegions(guestCluster, nb, from, to);
        return new Preallocator.Cow(r[0], r[1], r[2], r[3]);
    }

    @Override
    public void link(long guestCluster, long host, long nb, Preallocator.Cow cow, boolean prealloc) throws IOException {
        if (cow.endTo() > cow.endFrom()) copiedTailEnd = Math.max(copiedTailEnd, host + cow.endTo());
        hooks.linkPreallocated(guestCluster, host, nb, new long[]{cow.startFrom(), cow.startTo(), cow.endFrom(), cow.endTo()}, prealloc);
    }

    /**
     * qcow2_refcount_area on disk. Order: new blocks written and existing ones updated (the area
     * is unused, so until the switch its counts are only leaks), the new table written, all
     * flushed; the header names the new table (one write), flushed; then the old table is freed.
     */
    @Override
    public long refcountArea(long startOffset, long additionalClusters) throws IOException {
        int cb = geo.clusterBits();
        int cs = geo.clusterSize();
        RefcountArea area = RefcountArea.plan(refcounts.tableCopy(), cb, geo.refcountOrder(), startOffset,
                additionalClusters, true, 0, 0);
        long perBlock = refcounts.entriesPerBlock();
        long firstArea = startOffset >>> cb;
        long endArea = area.endOffset() >>> cb;
        for (int i : area.newBlocks()) {
            byte[] content = new byte[cs];
            long described = i * perBlock;
            for (long c = Math.max(described, firstArea); c < Math.min(described + perBlock, endArea); c++) {
                RefcountBlockCodec.set(content, geo.refcountOrder(), c - described, 1);
            }
            refcounts.writeBlock(area.table()[i], content);
        }
        // the part of the area that blocks of the old table describe
        for (long from = firstArea; from < endArea; ) {
            int t = refcounts.tableIndex(from);
            long to = Math.min(endArea, (t + 1L) * perBlock);
            if (!area.newBlocks().contains(t)) {
                for (long c = from; c < to; c++) refcounts.setCached(c, 1);
                refcounts.writeRange(from, to - from);
            }
            from = to;
        }
        ByteBuffer table = ByteBuffer.allocate((int) (area.tableClusters() * cs));
        table.asLongBuffer().put(area.table());
        storage.write(area.tableOffset(), table.array());
        storage.barrier();
        HeaderPatch.refcountTable(storage, area.tableOffset(), (int) area.tableClusters());
        storage.barrier();
        long oldOffset = refcounts.tableOffset();
        int oldClusters = refcounts.tableClusters();
        refcounts.replaceTable(area.tableOffset(), area.table());
        allocator.free(oldOffset, (long) oldClusters * cs);
        return area.endOffset();
    }

    @Override public long lastUsedCluster(long fileLength) throws IOException { return TailTrim.lastUsedCluster(refcounts, fileLength); }

    @Override public long fileLength() { return storage.length(); }

    /** Where preallocate_co's truncate put the end of the file, or -1 (see {@link #cutToPreallocatedEnd}). */
    private long preallocatedEnd = -1;
    /** The end of the last tail copied on write (perform_cow's cow_end), which the file keeps. */
    private long copiedTailEnd = -1;

    /** preallocate_co's truncate with preallocation off: the file reaches the last allocated byte. */
    @Override
    public void extendFile(long end) {
        storage.extendTo(end);
        preallocatedEnd = end;
    }

    /**
     * The allocator grows the file to whole clusters; QEMU's allocation does not, and with no
     * copy-on-write of the last cluster's tail (extended L2: its trailing subclusters stay
     * unallocated) its file ends at the last preallocated byte. Cuts the file back to there when
     * only that cluster's tail lies beyond (called once everything is flushed).
     */
    void cutToPreallocatedEnd() throws IOException {
        if (preallocatedEnd < 0) return;
        long end = Math.max(preallocatedEnd, copiedTailEnd);
        long size = storage.raw().size();
        long clusterEnd = (end + geo.clusterSize() - 1) / geo.clusterSize() * geo.clusterSize();
        if (size > end && size <= clusterEnd) {
            storage.raw().setLength(end);
            storage.flush();
        }
    }

    /**
     * The data area: falloc reserves it with fallocate, full writes zeros there (file-posix's
     * truncate with PREALLOC_MODE_FALLOC / FULL from the file's end, which is {@code dataStart}:
     * the refcount area ends there). The allocator has already extended the file over the area
     * (a hole, nothing written there yet), so the file is cut back to {@code dataStart} first.
     */
    @Override
    public void growData(long dataStart, long newLength, Preallocation mode) throws IOException {
        storage.flush();
        if (storage.raw().size() > dataStart) storage.raw().setLength(dataStart);
        switch (mode) {
            case FALLOC -> storage.raw().growAllocated(newLength);
            case FULL -> Fallocate.writeZeros(storage.raw(), dataStart, newLength - dataStart);
            case OFF, METADATA -> throw new IllegalArgumentException("no data area to grow with preallocation=" + mode.qemuName());
        }
        storage.extendTo(newLength);
    }
}
