package dev.qcow2.resize;

import dev.qcow2.alloc.L1Growth;
import dev.qcow2.Qcow2Exception;
import dev.qcow2.UnsupportedFeatureException;
import dev.qcow2.alloc.DiscardPassthrough;
import dev.qcow2.alloc.HeaderPatch;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.create.Preallocation;
import dev.qcow2.create.Preallocator;
import dev.qcow2.format.HeaderField;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.write.Qcow2Writer;
import dev.qcow2.write.ResizeHooks;

import java.io.IOException;

/**
 * Changes the virtual size of an open image, as QEMU's qcow2_co_truncate (block/qcow2.c),
 * called the way {@code qemu-img resize} calls it.
 *
 * <p>Grow: the L1 table grows to exactly the entries the new size needs; the new area is
 * preallocated as asked ({@link Preallocator}: metadata allocates L2 tables and data clusters
 * without writing data; falloc and full put the data clusters in a new area at the end of the
 * file, reserved with fallocate or written with zeros); when a backing file longer than the
 * old size would show through, the new area is zeroed (QEMU's BDRV_REQ_ZERO_WRITE from
 * bdrv_co_truncate; falloc and full get it from the file instead, their clusters read as
 * zeros); then everything is flushed and the header's size written and flushed.
 * Shrink: the clusters past the new end are discarded for good (and punched out of the file,
 * {@link DiscardPassthrough}), L1 entries past it cleared
 * and their tables freed (the L1 keeps its size, as in QEMU), refcount blocks that count
 * nothing but themselves dropped (qcow2_shrink_reftable), the size written, and the file cut
 * after its last used cluster. Data in the last cluster past an unaligned new end stays, as in
 * QEMU (a later grow shows it again unless a backing file forces zeroing).
 */
public final class Resizer {
    private Resizer() { }

    /** Checks QEMU makes before it changes anything; throws with qemu-img's message. */
    public static void check(Qcow2Writer image, long newSize) throws IOException { check(image, newSize, Preallocation.OFF); }

    /** {@link #check(Qcow2Writer, long)} for a resize with preallocation {@code mode}. */
    public static void check(Qcow2Writer image, long newSize, Preallocation mode) throws IOException {
        String res = image.describe();
        if (newSize <= 0) throw new Qcow2Exception(res, "New image size must be positive");
        if (newSize % 512 != 0) throw new Qcow2Exception(res, "The new size must be a multiple of 512");
        if (newSize < image.size() && mode != Preallocation.OFF) {
            throw new Qcow2Exception(res, "Preallocation can't be used for shrinking an image");
        }
        if (image.header().nbSnapshots() > 0 && image.header().version() < 3) {
            throw new UnsupportedFeatureException(res, "Can't resize a v2 image which has snapshots");
        }
        image.bitmaps().checkResizable();      // qcow2_truncate_bitmaps_check
        ClusterGeometry geo = image.geometry();
        if (l1Entries(geo, newSize) > L1Growth.MAX_L1_ENTRIES) {
            throw new Qcow2Exception(res, "Failed to grow the L1 table: File too large");
        }
        ResizeHooks hooks = image.resizeHooks();
        long old = image.size();
        long zeroStart = zeroStart(geo, old);
        boolean zeroedByFile = mode == Preallocation.FALLOC || mode == Preallocation.FULL;
        if (newSize > zeroStart && hooks.backingSize() > old && !zeroedByFile) {
            // qcow2_subcluster_zeroize cannot mark zero clusters on v2 while a backing file shows through,
            // and its zero_l2_subclusters refuses the partial first cluster (extended L2) when compressed.
            boolean v2 = image.header().version() < 3;
            boolean compressedHead = !geo.isClusterAligned(zeroStart) && hooks.compressedAt(zeroStart);
            if (v2 || compressedHead) {
                throw new UnsupportedFeatureException(res, "Failed to zero out new clusters: Operation not supported");
            }
        }
    }

    /** Resizes {@code image} to {@code newSize} bytes (a positive multiple of 512). */
    public static void resize(Qcow2Writer image, long newSize) throws IOException { resize(image, newSize, Preallocation.OFF); }

    /** Resizes {@code image} to {@code newSize} bytes, preallocating a grown area as {@code mode} says. */
    public static void resize(Qcow2Writer image, long newSize, Preallocation mode) throws IOException {
        check(image, newSize, mode);
        ResizeHooks hooks = image.resizeHooks();
        ClusterGeometry geo = image.geometry();
        long old = image.size();
        hooks.beforeChange();
        OpenImagePreallocation target = new OpenImagePreallocation(hooks, geo);
        if (newSize < old) shrink(hooks, geo, old, newSize);
        else grow(image, hooks, target, geo, old, newSize, mode);
        SyncedStorage storage = hooks.storage();
        // qcow2_write_caches: the preallocated area is on disk before the size that exposes it
        if (mode != Preallocation.OFF) storage.barrier();
        HeaderPatch.write(storage, HeaderField.SIZE.is(newSize));
        storage.flush();
        hooks.setSize(newSize);
        if (newSize < old) TailTrim.trim(hooks);
        if (mode == Preallocation.METADATA) target.cutToPreallocatedEnd();
    }

    private static void grow(Qcow2Writer image, ResizeHooks hooks, Preallocator.Target target, ClusterGeometry geo,
                             long old, long newSize, Preallocation mode) throws IOException {
        hooks.growL1(l1Entries(geo, newSize));
        boolean zeroWrite = newSize > old && hooks.backingSize() > old;
        switch (mode) {
            case OFF -> { }
            case METADATA -> Preallocator.metadata(target, old, newSize);
            case FALLOC, FULL -> {
                // the file's new bytes read as zeros: the clusters are marked allocated instead of zeroed
                Preallocator.data(target, old, newSize, mode, zeroWrite);
                zeroWrite = false;
            }
        }
        if (!zeroWrite) return;
        // The backing file must not show through the new area: zero it (qcow2_co_truncate, BDRV_REQ_ZERO_WRITE).
        hooks.setSize(newSize);
        long zeroStart = zeroStart(geo, old);
        if (newSize > zeroStart) image.writeZeroes(zeroStart, newSize - zeroStart);
        if (zeroStart > old) image.write(old, new byte[(int) (Math.min(zeroStart, newSize) - old)]);
    }

    private static void shrink(ResizeHooks hooks, ClusterGeometry geo, long old, long newSize) throws IOException {
        int newL1 = (int) l1Entries(geo, newSize);
        long keptEnd = Math.min(old, (long) newL1 * geo.bytesPerL2Table());
        // QCOW2_DISCARD_ALWAYS: what the shrink frees is discarded in the file (refcount blocks are not)
        DiscardPassthrough discard = new DiscardPassthrough(hooks.storage(), hooks.allocator());
        discard.freeing(() -> hooks.discardFully(geo.roundUpToCluster(newSize), keptEnd));
        hooks.shrinkL1(newL1, discard);
        discard.punch();
        ReftableShrink.shrink(hooks);
    }

    /** QEMU's size_to_l1: L1 entries needed to map {@code size} bytes. */
    public static long l1Entries(ClusterGeometry geo, long size) {
        long span = geo.bytesPerL2Table();
        return size / span + (size % span == 0 ? 0 : 1);
    }

    private static long zeroStart(ClusterGeometry geo, long old) {
        long sc = geo.subclusterSize();
        return (old + sc - 1) / sc * sc;
    }
}
