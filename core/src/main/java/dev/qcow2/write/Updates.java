package dev.qcow2.write;

import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.L2Entry;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * L2 entry changes of one operation, applied in QEMU's order (qcow2_alloc_cluster_link_l2,
 * discard_in_l2_slice): new data and refcounts flushed first, then the entries written, then
 * — once the entries are durable — the references of the clusters they replaced dropped.
 */
final class Updates {
    private record Update(L2Tables.Slot slot, long raw, long bitmap, L2Entry replaced) { }

    private final List<Update> pending = new ArrayList<>();

    /** Queues a new entry; {@code replaced} (or null) loses its host cluster reference on commit. */
    void add(L2Tables.Slot slot, long raw, long bitmap, L2Entry replaced) {
        pending.add(new Update(slot, raw, bitmap, replaced));
    }

    boolean isEmpty() { return pending.isEmpty(); }

    void commit(SyncedStorage storage, L2Tables tables, ClusterAllocator allocator, ClusterGeometry geo) throws IOException {
        if (pending.isEmpty()) return;
        storage.barrier();
        boolean frees = false;
        for (Update u : pending) {
            tables.set(u.slot(), u.raw(), u.bitmap());
            frees |= u.replaced() != null;
        }
        if (frees) {
            storage.barrier();
            for (Update u : pending) if (u.replaced() != null) free(u.replaced(), allocator, geo);
        }
        pending.clear();
    }

    /** QEMU's qcow2_free_any_cluster: the host cluster (or compressed sectors) an entry holds. */
    static void free(L2Entry e, ClusterAllocator allocator, ClusterGeometry geo) throws IOException {
        if (e instanceof L2Entry.Normal n && n.hostOffset() != 0) {
            allocator.free(n.hostOffset(), geo.clusterSize());
        } else if (e instanceof L2Entry.Zero z && z.preallocated()) {
            allocator.free(z.hostOffset(), geo.clusterSize());
        } else if (e instanceof L2Entry.Compressed c) {
            allocator.free(c.hostOffset() & ~511L, (long) c.sectors() * 512);
        }
    }

    /** Whether an entry holds host clusters (QEMU's qcow2_cluster_is_allocated). */
    static boolean hasHost(L2Entry e) {
        return (e instanceof L2Entry.Normal n && n.hostOffset() != 0)
                || (e instanceof L2Entry.Zero z && z.preallocated())
                || e instanceof L2Entry.Compressed;
    }
}
