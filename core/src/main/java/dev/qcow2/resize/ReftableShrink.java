package dev.qcow2.resize;

import dev.qcow2.alloc.RefcountStore;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.write.ResizeHooks;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * QEMU's qcow2_shrink_reftable: refcount blocks that count nothing (or only themselves) are
 * unlinked from the refcount table, flushed, and then freed. A block that describes itself
 * needs no freeing: its count goes with it. The table keeps its size, as in QEMU.
 */
final class ReftableShrink {
    private ReftableShrink() { }

    static void shrink(ResizeHooks hooks) throws IOException {
        RefcountStore refcounts = hooks.allocator().refcounts();
        int bits = refcounts.geometry().clusterBits();
        long perBlock = refcounts.entriesPerBlock();
        List<Long> freeLater = new ArrayList<>();
        for (int t = 0; t < refcounts.tableEntries(); t++) {
            long block = refcounts.blockOffset(t);
            if (block == 0) continue;
            long self = block >>> bits;
            boolean selfDescribed = refcounts.tableIndex(self) == t;
            if (!unused(refcounts, t * perBlock, perBlock, selfDescribed ? self : -1)) continue;
            refcounts.link(t, 0);
            if (!selfDescribed) freeLater.add(block);
        }
        if (freeLater.isEmpty()) return;
        SyncedStorage storage = hooks.storage();
        storage.barrier();
        for (long block : freeLater) hooks.allocator().free(block, 1L << bits);
    }

    /** Whether every cluster the block describes has refcount 0, ignoring the block's own cluster. */
    private static boolean unused(RefcountStore refcounts, long first, long count, long self) throws IOException {
        for (long c = first; c < first + count; c++) {
            if (c != self && refcounts.get(c) != 0) return false;
        }
        return true;
    }
}
