package dev.qcow2.resize;

import dev.qcow2.alloc.RefcountStore;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.write.ResizeHooks;

import java.io.IOException;

/**
 * The end of a shrink in QEMU's qcow2_co_truncate: the file is cut after its last cluster
 * with a nonzero refcount (qcow2_get_last_cluster), once everything before is flushed.
 *
 * <p>The writer's idea of the file length is not lowered: it only decides when the file must
 * be extended for a new allocation, and writes extend the file anyway.
 */
public final class TailTrim {
    private TailTrim() { }

    public static void trim(ResizeHooks hooks) throws IOException {
        SyncedStorage storage = hooks.storage();
        RefcountStore refcounts = hooks.allocator().refcounts();
        int bits = refcounts.geometry().clusterBits();
        long fileSize = storage.raw().size();
        long last = lastUsedCluster(refcounts, fileSize);
        long end = (last + 1) << bits;
        if (last < 0 || end >= fileSize) return;
        storage.flush();
        storage.raw().setLength(end);
        storage.flush();
    }

    /** qcow2_get_last_cluster: the last cluster below {@code fileSize} bytes with a nonzero refcount, or -1. */
    static long lastUsedCluster(RefcountStore refcounts, long fileSize) throws IOException {
        int bits = refcounts.geometry().clusterBits();
        long last = ((fileSize + (1L << bits) - 1) >>> bits) - 1;
        while (last >= 0 && refcounts.get(last) == 0) last--;
        return last;
    }
}
