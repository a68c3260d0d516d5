package dev.qcow2.alloc;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * QEMU's discard passthrough of freed clusters (block/qcow2-refcount.c: update_refcount queues
 * a cluster whose refcount drops to 0 with update_refcount_discard, qcow2_process_discards
 * discards it in the image file) for the discard types that are on by default
 * (qcow2_update_options_prepare): QCOW2_DISCARD_ALWAYS — what a shrinking resize discards, and
 * the L2 tables of its shortened L1 — and QCOW2_DISCARD_SNAPSHOT (pass-discard-snapshot=on) —
 * what deleting or applying a snapshot frees, and old snapshot tables. pass-discard-other and
 * pass-discard-request are off: clusters freed otherwise keep their bytes.
 *
 * <p>The file system punches the holes (FALLOC_FL_PUNCH_HOLE); where it cannot, nothing is
 * done, as QEMU ignores the -ENOTSUP. Unlike QEMU, which discards before its refcount cache is
 * written, a hole is punched only once the refcounts that free the cluster (and the tables
 * that stopped naming it) are durable, and a cluster allocated again meanwhile is left alone:
 * a crash never loses bytes that something still references.
 */
public final class DiscardPassthrough {
    /** An operation whose freed clusters are discarded. */
    public interface Operation {
        void run() throws IOException;
    }

    private final SyncedStorage storage;
    private final ClusterAllocator allocator;
    private final List<Long> freed = new ArrayList<>();

    public DiscardPassthrough(SyncedStorage storage, ClusterAllocator allocator) {
        this.storage = storage;
        this.allocator = allocator;
    }

    /** Runs {@code operation}, noting every cluster whose refcount drops to 0 meanwhile. */
    public void freeing(Operation operation) throws IOException {
        allocator.recordFreed(freed);
        try {
            operation.run();
        } finally {
            allocator.recordFreed(null);
        }
    }

    /**
     * Punches the noted clusters that are still free, contiguous ones in one call, after
     * making every earlier write durable.
     */
    public void punch() throws IOException {
        if (freed.isEmpty()) return;
        storage.barrier();
        TreeSet<Long> clusters = new TreeSet<>(freed);
        freed.clear();
        RefcountStore refcounts = allocator.refcounts();
        int bits = refcounts.geometry().clusterBits();
        long fileSize = storage.raw().size();
        long runStart = -1;
        long runEnd = -1;
        for (long c : clusters) {
            if (refcounts.get(c) != 0) continue;
            if (c == runEnd) {
                runEnd++;
                continue;
            }
            punch(runStart, runEnd, bits, fileSize);
            runStart = c;
            runEnd = c + 1;
        }
        punch(runStart, runEnd, bits, fileSize);
    }

    private void punch(long first, long end, int bits, long fileSize) throws IOException {
        if (first < 0) return;
        long from = first << bits;
        long to = Math.min(end << bits, fileSize);
        if (from < to) storage.raw().punchHole(from, to - from);
    }
}
