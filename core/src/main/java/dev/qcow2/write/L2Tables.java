package dev.qcow2.write;

import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import dev.qcow2.mapping.ClusterMapper;
import dev.qcow2.mapping.L1Table;
import dev.qcow2.mapping.L2Cache;
import dev.qcow2.alloc.L1Growth;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.units.GuestOffset;
import dev.qcow2.units.HostOffset;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The writer's side of the active L1 table and its L2 tables: lookups go through the one
 * {@link ClusterMapper} and {@link L2Cache} the read path uses (this class is the mapper's
 * {@link L1Table}); changes are made to the cached table and to the file together.
 * {@link #writable} is QEMU's get_cluster_table: an L2 table is used in place only when its L1
 * entry has OFLAG_COPIED (refcount exactly 1); otherwise a new one is allocated, zero-filled
 * or copied from the shared table (l2_allocate), written and flushed before the L1 entry
 * points at it, and the shared table loses one reference only after the new L1 entry is
 * durable.
 *
 * <p>Invariant: a cached table equals the file as it will read once the engine's pending
 * records are written ({@link SyncedStorage#writeAfterFlush}); the cache loads through
 * {@link SyncedStorage#read}, which overlays those records, so evicting a changed table loses
 * nothing.
 */
final class L2Tables implements L1Table {
    /** The writer's cache size in tables (as before the caches were one). */
    private static final int CACHE_TABLES = 256;

    private final SyncedStorage storage;
    private final ClusterGeometry geo;
    private final ClusterAllocator allocator;
    private final L2Cache cache;
    private final ClusterMapper mapper;
    private long[] l1;
    private long l1Offset;
    /** The table offset {@link #tableOffset} returned last (already checked). */
    private HostOffset lastTable;

    /** Where one guest cluster's L2 entry lives. */
    record Slot(HostOffset l2Offset, int index) {
        /** The file offset of the entry (for reports of damage). */
        long fileOffset(ClusterGeometry geo) { return l2Offset.value() + (long) index * geo.l2EntrySize(); }
    }

    L2Tables(SyncedStorage storage, ClusterGeometry geo, ClusterAllocator allocator, long l1Offset, int l1Size, int version)
            throws IOException {
        this.storage = storage;
        this.geo = geo;
        this.allocator = allocator;
        this.l1Offset = l1Offset;
        this.l1 = ClusterMapper.readTable(storage.raw(), l1Offset, l1Size);
        int cs = geo.clusterSize();
        // through the engine's storage: entries not yet on disk are part of the table
        this.cache = new L2Cache((long) CACHE_TABLES * cs, cs, at -> {
            long[] t = new long[cs / 8];
            ByteBuffer.wrap(storage.read(at.value(), cs)).asLongBuffer().get(t);
            return t;
        });
        // the writer checks request ranges itself; copy-on-write reads the last cluster whole
        this.mapper = new ClusterMapper(storage.describe(), geo, this, Long.MAX_VALUE, cache, false, version);
    }

    @Override public HostOffset offset() { return new HostOffset(l1Offset); }

    @Override public long[] entries() { return l1; }

    ClusterMapper mapper() { return mapper; }

    int l1Index(long guestOffset) { return (int) (guestOffset >>> (geo.clusterBits() + geo.l2Bits())); }

    int l2Index(long guestOffset) { return (int) ((guestOffset >>> geo.clusterBits()) & (geo.l2Entries() - 1)); }

    /** The current entry of the guest cluster holding {@code guestOffset}; null when it has no L2 table. */
    L2Entry entry(long guestOffset) throws IOException { return mapper.entry(new GuestOffset(guestOffset)); }

    L2Entry entry(Slot slot) throws IOException { return mapper.entry(cache.table(slot.l2Offset()), slot.index()); }

    /** A slot whose L2 table may be changed in place (allocating or copying the table first). */
    Slot writable(long guestOffset) throws IOException {
        int i = l1Index(guestOffset);
        if (i >= l1.length) growL1(i + 1L, false);   // QEMU's get_cluster_table
        HostOffset old = tableOffset(i);
        if (old != null && (l1[i] & L1Entry.COPIED) != 0) return new Slot(old, l2Index(guestOffset));
        HostOffset fresh = new HostOffset(allocator.allocate(geo.clusterSize()));
        long[] content = old == null ? new long[geo.clusterSize() / 8] : cache.table(old).clone();
        ByteBuffer bytes = ByteBuffer.allocate(geo.clusterSize());
        bytes.asLongBuffer().put(content);
        storage.write(fresh.value(), bytes.array());
        cache.put(fresh, content);
        storage.barrier();
        l1[i] = fresh.value() | L1Entry.COPIED;
        storage.write(l1Offset + 8L * i, ByteBuffer.allocate(8).putLong(l1[i]).array());
        if (old != null) {
            // The shared table keeps its other users; it loses ours only once the new L1 entry is durable.
            storage.barrier();
            allocator.free(old.value(), geo.clusterSize());
        }
        return new Slot(fresh, l2Index(guestOffset));
    }

    /**
     * The L2 table L1 entry {@code i} names (checked by the mapper), or null. The last one is
     * kept, so a run of writes into one table does not make a new offset object per cluster.
     */
    private HostOffset tableOffset(int i) throws IOException {
        long raw = l1[i] & L1Entry.OFFSET_MASK;
        if (lastTable != null && lastTable.value() == raw) return lastTable;
        HostOffset t = mapper.l2TableOffset(i);
        if (t != null) lastTable = t;
        return t;
    }

    /** Sets an entry (and its subcluster bitmap with extended L2) in cache and on disk. */
    void set(Slot slot, long raw, long bitmap) throws IOException {
        put(slot, raw, bitmap);
        writeEntries(slot.l2Offset(), slot.index(), 1);
    }

    /** Sets an entry in the cached table only; {@link #writeEntries} writes it. */
    void put(Slot slot, long raw, long bitmap) throws IOException {
        long[] t = cache.table(slot.l2Offset());
        if (geo.extendedL2()) {
            t[2 * slot.index()] = raw;
            t[2 * slot.index() + 1] = bitmap;
        } else {
            t[slot.index()] = raw;
        }
    }

    /** Writes {@code count} consecutive cached entries of one L2 table, from {@code index}, in one write. */
    void writeEntries(HostOffset l2Offset, int index, int count) throws IOException {
        storage.write(l2Offset.value() + (long) geo.l2EntrySize() * index, entries(l2Offset, index, count));
    }

    /**
     * {@link #writeEntries}, but held until the next flush has made every earlier write durable
     * ({@link SyncedStorage#writeAfterFlush}): entries naming clusters whose data and refcounts
     * were just written, as QEMU's L2 cache depends on its refcount cache.
     */
    void writeEntriesAfterFlush(HostOffset l2Offset, int index, int count) throws IOException {
        storage.writeAfterFlush(l2Offset.value() + (long) geo.l2EntrySize() * index, entries(l2Offset, index, count));
    }

    private byte[] entries(HostOffset l2Offset, int index, int count) throws IOException {
        long[] t = cache.table(l2Offset);
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
        return L1Growth.clearTail(storage, new L1Growth.Table(l1Offset, l1), newSize, L1Entry.OFFSET_MASK);
    }

    /** Drops a freed table from the cache. */
    void forget(HostOffset l2Offset) { cache.forget(l2Offset); }
}
