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
 * <p>QEMU queues discards only while an operation caches them (qcow2_cluster_discard,
 * qcow2_update_snapshot_refcount: {@code cache_discards}), merging adjacent clusters into one
 * request; anything freed outside such a window is discarded on its own. Since a file system
 * deallocates only whole blocks inside one punch, the same grouping is kept:
 * {@link #freeing} collects into the one merged batch, {@link #freeingAlone} makes a batch of
 * its own.
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
    /** Batch 0: the merged one; every other batch is punched on its own. */
    private final List<List<Long>> batches = new ArrayList<>(List.of(new ArrayList<>()));

    public DiscardPassthrough(SyncedStorage storage, ClusterAllocator allocator) {
        this.storage = storage;
        this.allocator = allocator;
    }

    /** Runs {@code operation}, noting every cluster whose refcount drops to 0 meanwhile in the merged batch. */
    public void freeing(Operation operation) throws IOException { record(batches.get(0), operation); }

    /** As {@link #freeing}, but what {@code operation} frees is discarded apart from everything else. */
    public void freeingAlone(Operation operation) throws IOException {
        List<Long> batch = new ArrayList<>();
        batches.add(batch);
        record(batch, operation);
    }

    private void record(List<Long> batch, Operation operation) throws IOException {
        allocator.recordFreed(batch);
        try {
            operation.run();
        } finally {
            allocator.recordFreed(null);
        }
    }

    /**
     * Punches the noted clusters that are still free, contiguous ones of a batch in one call,
     * after making every earlier write durable.
     */
    public void punch() throws IOException {
        if (batches.stream().allMatch(List::isEmpty)) return;
        storage.barrier();
        RefcountStore refcounts = allocator.refcounts();
        int bits = refcounts.geometry().clusterBits();
        long fileSize = storage.raw().size();
        for (List<Long> batch : batches) {
            long runStart = -1;
            long runEnd = -1;
            for (long c : new TreeSet<>(batch)) {
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
        batches.clear();
        batches.add(new ArrayList<>());
    }

    private void punch(long first, long end, int bits, long fileSize) throws IOException {
        if (first < 0) return;
        long from = first << bits;
        long to = Math.min(end << bits, fileSize);
        if (from < to) storage.raw().punchHole(from, to - from);
    }
}
