package dev.qcow2.refcount;

import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.RefcountBlockCodec;
import dev.qcow2.storage.Storage;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The on-disk refcounts, read as QEMU's {@code qcow2_get_refcount}: a cluster beyond the
 * reftable, or under a reftable entry of 0, has refcount 0; reserved bits are masked off; an
 * entry the table's {@link Reftable.Policy} refuses (always an unaligned refcount block) makes
 * every refcount under it unreadable ({@link RefcountUnreadableException}). The one reader of
 * refcounts: check, repair, the writer's allocator, amend, the DSL and the CLI go through it.
 *
 * <p>Refcount blocks are cached, keyed by their host offset, in one of two ways ({@link Cache}):
 * a small direct-mapped cache for scans (a sequential scan reads each block once and allocates
 * nothing per cluster), or every block kept, for writers that update the cached bytes and
 * write them back themselves.
 */
public final class RefcountReader {
    /** How refcount blocks are kept once read. */
    public enum Cache {
        /** 64 slots, direct-mapped by block: bounded memory, for reading. */
        SCAN,
        /** Every block read stays: its bytes may be changed through {@link #refblock}. */
        RETAIN
    }

    /** Reads {@code into.length} bytes at a file offset; bytes past the end of the file read as zeros. */
    @FunctionalInterface
    public interface BlockSource {
        void read(long offset, byte[] into) throws IOException;
    }

    private static final int SLOTS = 64;

    private final BlockSource source;
    private final ClusterGeometry geo;
    private final int refblockBits;
    private final Cache cache;
    private Reftable reftable;
    private final long[] slotOffset;
    private final byte[][] slotData;
    private final Map<Long, byte[]> retained;

    public RefcountReader(BlockSource source, Reftable reftable, Cache cache) {
        this.source = source;
        this.reftable = reftable;
        this.geo = reftable.geometry();
        this.refblockBits = geo.clusterBits() + 3 - geo.refcountOrder();
        this.cache = cache;
        if (cache == Cache.SCAN) {
            slotOffset = new long[SLOTS];
            Arrays.fill(slotOffset, -1);
            slotData = new byte[SLOTS][];
            retained = null;
        } else {
            slotOffset = null;
            slotData = null;
            retained = new HashMap<>();
        }
    }

    public RefcountReader(Storage storage, Reftable reftable, Cache cache) {
        this((offset, into) -> storage.readFully(offset, ByteBuffer.wrap(into)), reftable, cache);
    }

    /** The refcounts of an image as its header names them, QEMU's way, for reading. */
    public static RefcountReader open(Storage storage, Qcow2Header h) throws IOException {
        return new RefcountReader(storage, Reftable.read(storage, h, Reftable.Policy.QEMU), Cache.SCAN);
    }

    public Reftable reftable() { return reftable; }

    public ClusterGeometry geometry() { return geo; }

    /** Switches to another table (a grown or rebuilt one); cached blocks stay valid, being keyed by offset. */
    public void replaceReftable(Reftable table) { this.reftable = table; }

    /** Refcount entries per refcount block. */
    public long entriesPerBlock() { return 1L << refblockBits; }

    /** The refcount of host cluster {@code cluster}. */
    public long get(long cluster) throws IOException {
        long block = reftable.refblockOffset(cluster >>> refblockBits);
        if (block == 0) return 0;
        return RefcountBlockCodec.get(refblock(block), geo.refcountOrder(), cluster & ((1L << refblockBits) - 1));
    }

    /**
     * The refcount of host cluster {@code cluster}, or {@code unreadable} when its reftable
     * entry is refused (for callers that only need to know "not 1").
     */
    public long getOr(long cluster, long unreadable) throws IOException {
        try {
            return get(cluster);
        } catch (RefcountUnreadableException e) {
            return unreadable;
        }
    }

    /**
     * The cached bytes of the refcount block at {@code offset}, read if not cached. With
     * {@link Cache#RETAIN} the array stays the cached copy: a writer changes it and writes the
     * changed bytes itself, keeping cache and file equal.
     */
    public byte[] refblock(long offset) throws IOException {
        if (cache == Cache.RETAIN) {
            byte[] b = retained.get(offset);
            if (b == null) {
                b = new byte[geo.clusterSize()];
                source.read(offset, b);
                retained.put(offset, b);
            }
            return b;
        }
        int slot = (int) ((offset >>> geo.clusterBits()) % SLOTS);
        byte[] b = slotData[slot];
        if (slotOffset[slot] != offset) {
            if (b == null) b = slotData[slot] = new byte[geo.clusterSize()];
            source.read(offset, b);
            slotOffset[slot] = offset;
        }
        return b;
    }

    /** Records the content of a refcount block just written at {@code offset} (a writer's new block). */
    public void cached(long offset, byte[] content) {
        if (cache == Cache.RETAIN) {
            retained.put(offset, content);
        } else {
            int slot = (int) ((offset >>> geo.clusterBits()) % SLOTS);
            slotOffset[slot] = offset;
            slotData[slot] = content.clone();
        }
    }
}
