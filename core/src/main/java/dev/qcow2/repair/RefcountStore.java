package dev.qcow2.repair;

import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.RefcountBlockCodec;
import dev.qcow2.storage.WritableStorage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * The image's on-disk refcounts as QEMU's {@code qcow2_get_refcount} sees them (a cluster under
 * a missing reftable entry has refcount 0; an unaligned refblock is unreadable), and single-entry
 * updates as {@code update_refcount} makes them for an existing refblock. Writes touch only the
 * bytes holding the entry, at any refcount width.
 */
final class RefcountStore {
    static final long REFT_OFFSET_MASK = 0xffff_ffff_ffff_fe00L;

    /** The refcount of a cluster cannot be read (QEMU: -EIO). */
    static final class Unreadable extends Exception {
        Unreadable() { super("Input/output error", null, false, false); }
    }

    private final WritableStorage storage;
    private final long[] reftable;
    private final int clusterBits;
    private final int order;
    private final int refblockBits;
    private final Map<Long, byte[]> blocks = new HashMap<>();

    int clusterBits() { return clusterBits; }

    RefcountStore(WritableStorage storage, Qcow2Header h) throws IOException {
        this.storage = storage;
        this.clusterBits = h.geometry().clusterBits();
        this.order = h.geometry().refcountOrder();
        this.refblockBits = clusterBits + 3 - order;
        int entries = (int) (h.refcountTableClusters() << (clusterBits - 3));
        ByteBuffer b = ByteBuffer.allocate(entries * 8);
        storage.readFully(h.refcountTableOffset(), b);
        this.reftable = new long[entries];
        b.flip().asLongBuffer().get(reftable);
    }

    long get(long cluster) throws IOException, Unreadable {
        byte[] block = block(cluster);
        return block == null ? 0 : RefcountBlockCodec.get(block, order, cluster & ((1L << refblockBits) - 1));
    }

    /** Sets the refcount of a cluster whose refblock exists (callers only change nonzero counts). */
    void set(long cluster, long value) throws IOException, Unreadable {
        byte[] block = block(cluster);
        if (block == null) throw new Unreadable();
        long index = cluster & ((1L << refblockBits) - 1);
        RefcountBlockCodec.set(block, order, index, value);
        int bits = 1 << order;
        int width = Math.max(1, bits / 8);
        int at = (int) (index * bits / 8);
        long blockOffset = reftable[(int) (cluster >>> refblockBits)] & REFT_OFFSET_MASK;
        storage.write(blockOffset + at, ByteBuffer.wrap(block, at, width));
    }

    private byte[] block(long cluster) throws IOException, Unreadable {
        long rt = cluster >>> refblockBits;
        if (rt >= reftable.length) return null;
        long offset = reftable[(int) rt] & REFT_OFFSET_MASK;
        if (offset == 0) return null;
        if ((offset & ((1L << clusterBits) - 1)) != 0) throw new Unreadable();
        byte[] block = blocks.get(rt);
        if (block == null) {
            block = storage.read(offset, 1 << clusterBits);
            blocks.put(rt, block);
        }
        return block;
    }
}
