package dev.qcow2.alloc;

import java.io.IOException;

/**
 * What {@link ClusterAllocator} does where QEMU's alloc_refcount_block (block/qcow2-refcount.c)
 * finds the refcount table too small, and how its free-cluster search resumes after it created
 * refcount metadata (QEMU's -EAGAIN). The two policies:
 * <ul>
 *   <li>{@link QemuRefcountArea}: QEMU 7.2's own rules, so that {@code create} lays an image out
 *       byte for byte as qemu-img create (and the start of qemu-img convert's target) does;</li>
 *   <li>{@link AppendedRefcountArea}: the writer's growth of an open image, ordered for crash
 *       safety (area, flush, header, flush, free).</li>
 * </ul>
 */
public sealed interface ReftableGrowth permits QemuRefcountArea, AppendedRefcountArea {

    /**
     * The table has no entry {@code neededIndex} (for host cluster {@code cluster}, the first of
     * a request in that range): grows it. Afterwards the caller searches again.
     */
    void grow(ClusterAllocator allocator, int neededIndex, long cluster) throws IOException;

    /**
     * Where the free-cluster search resumes after refcount metadata was created. True (the
     * writer): back at the cursor the interrupted search began at, also before searching for a
     * block that the new block's own range lacks. False (QEMU): update_refcount's -EAGAIN rule,
     * {@code free_cluster_index = MIN(free_cluster_index, start of the request)}, which keeps
     * clusters freed meanwhile (an old refcount table) in reach.
     */
    boolean restartsAtSavedCursor();
}
