package dev.qcow2.repair;

import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.RefcountBlockCodec;
import dev.qcow2.refcount.RefcountReader;
import dev.qcow2.refcount.RefcountUnreadableException;
import dev.qcow2.refcount.Reftable;
import dev.qcow2.storage.WritableStorage;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Repair's policy over the one refcount reader: the refcounts as QEMU's
 * {@code qcow2_get_refcount} sees them ({@link Reftable.Policy#QEMU}: a cluster under a missing
 * reftable entry has refcount 0; an unaligned refblock is unreadable, which repair tolerates by
 * catching {@link RefcountUnreadableException}), and single-entry updates as
 * {@code update_refcount} makes them for an existing refblock. Writes touch only the bytes
 * holding the entry, at any refcount width.
 */
final class RefcountStore {
    private final WritableStorage storage;
    private final RefcountReader reader;
    private final int order;

    int clusterBits() { return reader.geometry().clusterBits(); }

    RefcountStore(WritableStorage storage, Qcow2Header h) throws IOException {
        this.storage = storage;
        this.reader = new RefcountReader(storage, Reftable.read(storage, h, Reftable.Policy.QEMU), RefcountReader.Cache.RETAIN);
        this.order = h.geometry().refcountOrder();
    }

    /** @throws RefcountUnreadableException when the cluster's refblock offset is unaligned (QEMU: -EIO) */
    long get(long cluster) throws IOException {
        return reader.get(cluster);
    }

    /** Sets the refcount of a cluster whose refblock exists (callers only change nonzero counts). */
    void set(long cluster, long value) throws IOException {
        long epb = reader.entriesPerBlock();
        long blockOffset = reader.reftable().refblockOffset(cluster / epb);
        if (blockOffset == 0) throw new IllegalStateException("no refcount block for cluster " + cluster);
        byte[] block = reader.refblock(blockOffset);
        long index = cluster % epb;
        RefcountBlockCodec.set(block, order, index, value);
        int bits = 1 << order;
        int width = Math.max(1, bits / 8);
        int at = (int) (index * bits / 8);
        storage.write(blockOffset + at, ByteBuffer.wrap(block, at, width));
    }
}
