package dev.qcow2.write;

import dev.qcow2.CorruptImageException;
import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import dev.qcow2.mapping.ClusterMapper;
import dev.qcow2.alloc.L1Growth;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The active L1 table and the L2 tables it names, kept in memory and written through.
 * {@link #writable} is QEMU's get_cluster_table: an L2 table is used in place only when its L1
 * entry has OFLAG_COPIED (refcount exactly 1); otherwise a new one is allocated, zero-filled
 * or copied from the shared table (l2_allocate), written and flushed before the L1 entry
 * points at it, and the shared table loses one reference only after the new L1 entry is
 * durable.
 */
final class L2Tables {
    private static final int CACHE_TABLES = 256;

    private final SyncedStorage storage;
    private final ClusterGeometry geo;
    private final ClusterAllocator allocator;
    private long[] l1;
    private long l1Offset;
    private final Map<Long, long[]> cache = new LinkedHashMap<>(64, 0.75f, true) {
        @Override protected boolean removeEldestEntry(Map.Entry<Long, long[]> e) { return size() > CACHE_TABLES; }
    };

    /** Where one guest cluster's L2 entry lives. */
    record Slot(long l2Offset, int index) { }

    L2Tables(SyncedStorage storage, ClusterGeometry geo, ClusterAllocator allocator, long l1Offset, int l1Size) throws IOException {
        this.storage = storage;
        this.geo = geo;
        this.allocator = allocator;
        this.l1Offset = l1Offset;
        this.l1 = ClusterMapper.readTable(storage.raw(), l1Offset, l1Size);
    }

    int l1Index(long guestOffset) { return (int) (guestOffset >>> (geo.clusterBits() + geo.l2Bits())); }

    int l2Index(long guestOffset) { return (int) ((guestOffset >>> geo.clusterBits()) & (geo.l2Entries() - 1)); }

    /** The current entry of the guest cluster holding {@code guestOffset}; null when it has no L2 table. */
    L2Entry entry(long guestOffset) throws IOException {
        int i = l1Index(guestOffset);
        if (i >= l1.length) return null;
        long l2 = l2Offset(i);
        if (l2 == 0) return null;
        return entry(new Slot(l2, l2Index(guestOffset)));
    }

    L2Entry entry(Slot slot) throws IOException {
        long[] t = table(slot.l2Offset());
        return geo.extendedL2()
                ? L2Entry.decode(t[2 * slot.index()], t[2 * slot.index() + 1], geo, false)
                : L2Entry.decode(t[slot.index()], 0, geo, false);
    }

    private long l2Offset(int l1Index) throws CorruptImageException {
        long off = l1[l1Index] & L1Entry.OFFSET_MASK;
        if (off != 0 && !geo.isClusterAligned(off)) {
            throw new CorruptImageException(storage.describe(), "L1 table", l1Index, off,
                    "L2 table offset 0x" + Long.toHexString(off) + " unaligned (L1 index: 0x" + Integer.toHexString(l1Index) + ")");
        }
        return off;
    }

    private long[] table(long offset) throws IOException {
        long[] t = cache.get(offset);
        if (t == null) {
            // through the engine's storage: entries not yet on disk are part of the table
            t = new long[geo.clusterSize() / 8];
            ByteBuffer.wrap(storage.read(offset, geo.clusterSize())).asLongBuffer().get(t);
            cache.put(offset, t);
        }
        return t;
    }

    /** A slot whose L2 table may be changed in place (allocating or copying the table first). */
    Slot writable(long guestOffset) throws IOException {
        int i = l1Index(guestOffset);
        if (i >= l1.length) growL1(i + 1L, false);   // QEMU's get_cluster_table
        long old = l2Offset(i);
        if (old != 0 && (l1[i] & L1Entry.COPIED) != 0) return new Slot(old, l2Index(guestOffset));
        long fresh = allocator.allocate(geo.clusterSize());
        long[] content = old == 0 ? new long[geo.clusterSize() / 8] : table(old).clone();
        ByteBuffer bytes = ByteBuffer.allocate(geo.clusterSize());
        bytes.asLongBuffer().put(content);
        storage.write(fresh, bytes.array());
        cache.put(fresh, content);
        storage.barrier();
        l1[i] = fresh | L1Entry.COPIED;
        storage.write(l1Offset + 8L * i, ByteBuffer.allocate(8).putLong(l1[i]).array());
        if (old != 0) {
            // The shared table keeps its other users; it loses ours only once the new L1 entry is durable.
            storage.barrier();
            allocator.free(old, geo.clusterSize());
        }
        return new Slot(fresh, l2Index(guestOffset));
    }

    /** Sets an entry (and its subcluster bitmap with extended L2) in cache and on disk. */
    void set(Slot slot, long raw, long bitmap) throws IOException {
        put(slot, raw, bitmap);
        writeEntries(slot.l2Offset(), slot.index(), 1);
    }

    /** Sets an entry in the cached table only; {@link #writeEntries} writes it. */
    void put(Slot slot, long raw, long bitmap) throws IOException {
        long[] t = table(slot.l2Offset());
        if (geo.extendedL2()) {
            t[2 * slot.index()] = raw;
            t[2 * slot.index() + 1] = bitmap;
        } else {
            t[slot.index()] = raw;
        }
    }

    /** Writes {@code count} consecutive cached entries of one L2 table, from {@code index}, in one write. */
    void writeEntries(long l2Offset, int index, int count) throws IOException {
        storage.write(l2Offset + entryBytes() * index, entries(l2Offset, index, count));
    }

    /**
     * {@link #writeEntries}, but held until the next flush has made every earlier write durable
     * ({@link SyncedStorage#writeAfterFlush}): entries naming clusters whose data and refcounts
     * were just written, as QEMU's L2 cache depends on its refcount cache.
     */
    void writeEntriesAfterFlush(long l2Offset, int index, int count) throws IOException {
        storage.writeAfterFlush(l2Offset + entryBytes() * index, entries(l2Offset, index, count));
    }

    private long entryBytes() { return geo.extendedL2() ? 16 : 8; }

    private byte[] entries(long l2Offset, int index, int count) throws IOException {
        long[] t = table(l2Offset);
        int words = geo.extendedL2() ? 2 : 1;
        ByteBuffer bytes = ByteBuffer.allocate(8 * words * count);
        bytes.asLongBuffer().put(t, words * index, words * count);
        return bytes.array();
    }

    int l1Size() { return l1.length; }

    /** Grows the L1 table to at least {@code minSize} entries (see {@link L1Growth#grow}). */
    void growL1(long minSize, boolean exact) throws IOException {
        L1Growth.Table t = L1Growth.grow(storage, allocator, new L1Growth.Table(l1Offset, l1), minSize, exact);
        l1 = t.entries();
        l1Offset = t.offset();
    }

    /** Zeroes the L1 entries from {@code newSize} on (see {@link L1Growth#clearTail}); returns the L2 tables they named. */
    long[] clearL1Tail(int newSize) throws IOException {
        long[] released = L1Growth.clearTail(storage, new L1Growth.Table(l1Offset, l1), newSize, L1Entry.OFFSET_MASK);
        return released;
    }

    /** Drops a freed table from the cache. */
    void forget(long l2Offset) { cache.remove(l2Offset); }
}
