package dev.qcow2.write;

import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.L2Entry;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.List;

/**
 * L2 entry changes of one operation, applied in QEMU's order (qcow2_alloc_cluster_link_l2,
 * discard_in_l2_slice): new data and refcounts flushed first, then the entries written, then
 * — once the entries are durable — the references of the clusters they replaced dropped.
 */
final class Updates {
    private record Update(L2Tables.Slot slot, long raw, long bitmap, L2Entry replaced) { }

    private final List<Update> pending = new ArrayList<>();
    private final Set<L2Tables.Slot> slots = new HashSet<>();

    /** Queues a new entry; {@code replaced} (or null) loses its host cluster reference on commit. */
    void add(L2Tables.Slot slot, long raw, long bitmap, L2Entry replaced) {
        pending.add(new Update(slot, raw, bitmap, replaced));
        slots.add(slot);
    }

    boolean isEmpty() { return pending.isEmpty(); }

    /** Whether an entry of this slot is queued (its table still shows the old one until commit). */
    boolean queued(L2Tables.Slot slot) { return slots.contains(slot); }

    /**
     * Applies the queued entries. Without clusters to release the entries are held until the
     * next flush ({@link L2Tables#writeEntriesAfterFlush}): no fsync now, and they reach the disk
     * only after the data and refcounts they need. When clusters are released the entries go
     * out at once between two barriers, since the releases depend on them.
     */
    void commit(SyncedStorage storage, L2Tables tables, ClusterAllocator allocator, ClusterGeometry geo) throws IOException {
        if (pending.isEmpty()) return;
        boolean frees = false;
        for (Update u : pending) frees |= u.replaced() != null;
        if (frees) storage.barrier();
        // consecutive entries of one table go out in one write
        int runStart = 0;
        for (int i = 0; i < pending.size(); i++) {
            Update u = pending.get(i);
            tables.put(u.slot(), u.raw(), u.bitmap());
            Update next = i + 1 < pending.size() ? pending.get(i + 1) : null;
            if (next == null || !next.slot().l2Offset().equals(u.slot().l2Offset()) || next.slot().index() != u.slot().index() + 1) {
                L2Tables.Slot first = pending.get(runStart).slot();
                if (frees) tables.writeEntries(first.l2Offset(), first.index(), i - runStart + 1);
                else tables.writeEntriesAfterFlush(first.l2Offset(), first.index(), i - runStart + 1);
                runStart = i + 1;
            }
        }
        if (frees) {
            storage.barrier();
            for (Update u : pending) if (u.replaced() != null) free(u.replaced(), allocator, geo);
        }
        pending.clear();
        slots.clear();
    }

    /** QEMU's qcow2_free_any_cluster: the host cluster (or compressed sectors) an entry holds. */
    static void free(L2Entry e, ClusterAllocator allocator, ClusterGeometry geo) throws IOException {
        switch (e) {
            case L2Entry.Normal n when n.hostOffset() != 0 -> allocator.free(n.hostOffset(), geo.clusterSize());
            case L2Entry.Zero z when z.preallocated() -> allocator.free(z.hostOffset(), geo.clusterSize());
            case L2Entry.Compressed c -> allocator.free(c.hostOffset() & ~511L, (long) c.sectors() * 512);
            case L2Entry.Normal n -> { }         // offset 0: a guest cluster with no host cluster (extended L2)
            case L2Entry.Zero z -> { }
            case L2Entry.Unallocated u -> { }
        }
    }

    /** Whether an entry holds host clusters (QEMU's qcow2_cluster_is_allocated). */
    static boolean hasHost(L2Entry e) {
        return switch (e) {
            case L2Entry.Normal n -> n.hostOffset() != 0;
            case L2Entry.Zero z -> z.preallocated();
            case L2Entry.Compressed c -> true;
            case L2Entry.Unallocated u -> false;
        };
    }
}
