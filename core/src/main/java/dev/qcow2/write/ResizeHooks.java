package dev.qcow2.write;

import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.L2Entry;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.units.HostOffset;

import java.io.IOException;

/**
 * What {@code dev.qcow2.resize} needs from an open {@link Qcow2Writer}: the steps of QEMU's
 * qcow2_co_truncate that touch the writer's tables. The resize logic itself lives in
 * {@code dev.qcow2.resize.Resizer}.
 */
public final class ResizeHooks {
    private final Qcow2Writer writer;
    private final SyncedStorage storage;
    private final ClusterAllocator allocator;
    private final L2Tables tables;
    private final ZeroDiscard zeroDiscard;
    private final DirtyBit dirty;
    private final BlockDevice backing;

    ResizeHooks(Qcow2Writer writer, SyncedStorage storage, ClusterAllocator allocator, L2Tables tables,
                ZeroDiscard zeroDiscard, DirtyBit dirty, BlockDevice backing) {
        this.writer = writer;
        this.storage = storage;
        this.allocator = allocator;
        this.tables = tables;
        this.zeroDiscard = zeroDiscard;
        this.dirty = dirty;
        this.backing = backing;
    }

    public SyncedStorage storage() { return storage; }

    public ClusterAllocator allocator() { return allocator; }

    /** The backing device's size, or -1 without a backing file. */
    public long backingSize() throws IOException { return backing == null ? -1 : backing.size(); }

    /** Sets the dirty bit first when lazy refcounts are on (QEMU's qcow2_mark_dirty). */
    public void beforeChange() throws IOException { dirty.beforeChange(); }

    public int l1Size() { return tables.l1Size(); }

    /** Whether the guest cluster holding {@code guestOffset} is a compressed cluster. */
    public boolean compressedAt(long guestOffset) throws IOException { return tables.entry(guestOffset) instanceof L2Entry.Compressed; }

    /** Grows the L1 table to exactly {@code entries} entries when it is smaller (qcow2_grow_l1_table, exact_size). */
    public void growL1(long entries) throws IOException { tables.growL1(entries, true); }

    /** The guest size the writer accepts requests up to (the header is written by the caller). */
    public void setSize(long size) { writer.setSize(size); }

    /**
     * QEMU's qcow2_cluster_discard with full_discard over the clusters of {@code [from, to)}
     * (cluster-aligned {@code from}): entries become unallocated, host clusters lose a reference.
     * L2 ranges without a table are skipped (QEMU would allocate an empty table there).
     */
    public void discardFully(long from, long to) throws IOException {
        ClusterGeometry geo = writer.geometry();
        long span = (long) geo.clusterSize() * geo.l2Entries();
        for (long start = from; start < to; start = (start / span + 1) * span) {
            long end = Math.min(to, (start / span + 1) * span);
            if (tables.l1Index(start) >= tables.l1Size() || tables.entry(start) == null) continue;
            zeroDiscard.discard(start, end - start, writer.size(), true);
        }
    }

    /**
     * QEMU's qcow2_shrink_l1_table plus the discard of what those entries covered: entries from
     * {@code newSize} on are zeroed and flushed first; then every host cluster their L2 tables
     * reference, and the tables themselves, lose one reference (what QEMU's copy-discard-free
     * of a shared table amounts to). A crash in between leaves only leaked clusters.
     */
    public void shrinkL1(int newSize) throws IOException {
        long[] released = tables.clearL1Tail(newSize);
        ClusterGeometry geo = writer.geometry();
        for (long l2 : released) {
            if (l2 == 0) continue;
            HostOffset table = new HostOffset(l2);
            for (int i = 0; i < geo.l2Entries(); i++) {
                L2Entry e = tables.entry(new L2Tables.Slot(table, i));
                if (Updates.hasHost(e)) Updates.free(e, allocator, geo);
            }
            allocator.free(l2, geo.clusterSize());
            tables.forget(table);
        }
    }
}
