package dev.qcow2.check;

import dev.qcow2.format.RefcountBlockCodec;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The on-disk refcounts, read as QEMU's {@code qcow2_get_refcount}: a cluster beyond the
 * reftable, or under a reftable entry of 0, has refcount 0; the reftable entry's reserved bits
 * are masked off; an unaligned refblock offset is an error (EIO). Refblocks are cached in a
 * small direct-mapped cache, so a sequential scan reads each refblock once.
 */
final class RefcountReader {
    static final long REFT_OFFSET_MASK = 0xffff_ffff_ffff_fe00L;
    static final long REFT_RESERVED_MASK = 0x1ffL;
    private static final int SLOTS = 64;

    private final Storage storage;
    private final long[] reftable;
    private final int clusterBits;
    private final int refcountOrder;
    private final int refblockBits;
    private final long[] slotIndex = new long[SLOTS];
    private final byte[][] slotData = new byte[SLOTS][];

    /** Thrown for a cluster whose refcount cannot be read (QEMU: -EIO). */
    static final class Unreadable extends Exception {
        Unreadable(String message) { super(message, null, false, false); }
    }

    RefcountReader(Storage storage, long[] reftable, int clusterBits, int refcountOrder) {
        this.storage = storage;
        this.reftable = reftable;
        this.clusterBits = clusterBits;
        this.refcountOrder = refcountOrder;
        this.refblockBits = clusterBits + 3 - refcountOrder;
        java.util.Arrays.fill(slotIndex, -1);
    }

    static long[] readReftable(Storage storage, long offset, long clusters, int clusterBits) throws IOException {
        int entries = (int) (clusters << (clusterBits - 3));
        ByteBuffer buf = ByteBuffer.allocate(entries * 8);
        storage.readFully(offset, buf);
        buf.flip();
        long[] out = new long[entries];
        buf.asLongBuffer().get(out);
        return out;
    }

    long[] reftable() { return reftable; }

    long get(long cluster) throws IOException, Unreadable {
        long rtIndex = cluster >>> refblockBits;
        if (rtIndex >= reftable.length) return 0;
        long blockOffset = reftable[(int) rtIndex] & REFT_OFFSET_MASK;
        if (blockOffset == 0) return 0;
        if ((blockOffset & ((1L << clusterBits) - 1)) != 0 || blockOffset < 0) {
            throw new Unreadable("Input/output error");
        }
        int slot = (int) (rtIndex % SLOTS);
        byte[] block = slotData[slot];
        if (slotIndex[slot] != rtIndex) {
            if (block == null) block = slotData[slot] = new byte[1 << clusterBits];
            storage.readFully(blockOffset, ByteBuffer.wrap(block));
            slotIndex[slot] = rtIndex;
        }
        return RefcountBlockCodec.get(block, refcountOrder, cluster & ((1L << refblockBits) - 1));
    }
}
