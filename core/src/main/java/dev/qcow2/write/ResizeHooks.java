package dev.qcow2.write;

import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.DiscardPassthrough;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.L2Entry;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.image.Encryption;
import dev.qcow2.image.LayerReader;
import dev.qcow2.units.GuestOffset;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.units.HostOffset;

import java.io.IOException;

/**
 * What {@code dev.qcow2.resize} needs from an open {@link Qcow2Writer}: the steps of QEMU's
 * qcow2_co_truncate that touch the writer's tables. The resize logic itself lives in
 * {@code dev.qcow2.resize.Resizer}.
 */
public final class ResizeHooks {
    private final Qcow2Writer writer;
    private final SyncedStorage storage;
    private final ClusterAllocator allocator;
    private final L2Tables tables;
    private final ZeroDiscard zeroDiscard;
    private final DirtyBit dirty;
    private final BlockDevice backing;
    private final LayerReader reader;

    ResizeHooks(Qcow2Writer writer, SyncedStorage storage, ClusterAllocator allocator, L2Tables tables,
                ZeroDiscard zeroDiscard, DirtyBit dirty, BlockDevice backing, LayerReader reader) {
        this.writer = writer;
        this.storage = storage;
        this.allocator = allocator;
        this.tables = tables;
        this.zeroDiscard = zeroDiscard;
        this.dirty = dirty;
        this.backing = backing;
        this.reader = reader;
    }

    public SyncedStorage storage() { return storage; }

    public ClusterAllocator allocator() { return allocator; }

    /** The backing device's size, or -1 without a backing file. */
    public long backingSize() throws IOException { return backing == null ? -1 : backing.size(); }

    /** Sets the dirty bit first when lazy refcounts are on (QEMU's qcow2_mark_dirty). */
    public void beforeChange() throws IOException { dirty.beforeChange(); }

    public int l1Size() { return tables.l1Size(); }

    /** Whether the guest cluster holding {@code guestOffset} is a compressed cluster. */
    public boolean compressedAt(long guestOffset) throws IOException { return tables.entry(guestOffset) instanceof L2Entry.Compressed; }

    /** Grows the L1 table to exactly {@code entries} entries when it is smaller (qcow2_grow_l1_table, exact_size). */
    public void growL1(long entries) throws IOException { tables.growL1(entries, true); }

    /** The guest size the writer accepts requests up to (the header is written by the caller). */
    public void setSize(long size) { writer.setSize(size); }

    /**
     * QEMU's qcow2_cluster_discard with full_discard over the clusters of {@code [from, to)}
     * (cluster-aligned {@code from}): entries become unallocated, host clusters lose a reference.
     * L2 ranges without a table are skipped (QEMU would allocate an empty table there).
     */
    public void discardFully(long from, long to) throws IOException {
        ClusterGeometry geo = writer.geometry();
        long span = (long) geo.clusterSize() * geo.l2Entries();
        for (long start = from; start < to; start = (start / span + 1) * span) {
            long end = Math.min(to, (start / span + 1) * span);
            if (tables.l1Index(start) >= tables.l1Size() || tables.entry(start) == null) continue;
            zeroDiscard.discard(start, end - start, writer.size(), true);
        }
    }

    /**
     * QEMU's qcow2_shrink_l1_table plus the discard of what those entries covered: entries from
     * {@code newSize} on are zeroed and flushed first; then every host cluster their L2 tables
     * reference, and the tables themselves, lose one reference (what QEMU's copy-discard-free
     * of a shared table amounts to). A crash in between leaves only leaked clusters.
     */
    public void shrinkL1(int newSize) throws IOException { shrinkL1(newSize, new DiscardPassthrough(storage, allocator)); }

    /** {@link #shrinkL1(int)}, noting what it frees in {@code discard}, to be punched as QEMU discards it. */
    public void shrinkL1(int newSize, DiscardPassthrough discard) throws IOException {
        long[] released = tables.clearL1Tail(newSize);
        ClusterGeometry geo = writer.geometry();
        for (long l2 : released) {
            if (l2 == 0) continue;
            HostOffset table = new HostOffset(l2);
            // the data with qcow2_cluster_discard's (merged), each table apart (qcow2_shrink_l1_table)
            discard.freeing(() -> {
                for (int i = 0; i < geo.l2Entries(); i++) {
                    L2Entry e = tables.entry(new L2Tables.Slot(table, i));
                    if (Updates.hasHost(e)) Updates.free(e, allocator, geo);
                }
            });
            discard.freeingAlone(() -> allocator.free(l2, geo.clusterSize()));
            tables.forget(table);
        }
    }

    /**
     * QEMU's handle_copied for preallocation: the host cluster of the guest cluster at
     * {@code guestCluster} when it is written in place (a data cluster with OFLAG_COPIED), else -1.
     */
    public long copiedHost(long guestCluster) throws IOException {
        if (tables.l1Index(guestCluster) >= tables.l1Size()) return -1;
        return switch (tables.entry(guestCluster)) {
            case null -> -1;
            case L2Entry.Normal n when n.copied() && n.hostOffset() != 0 -> n.hostOffset();
            case L2Entry.Normal n -> -1;
            case L2Entry.Zero z -> -1;
            case L2Entry.Compressed c -> -1;
            case L2Entry.Unallocated u -> -1;
        };
    }

    /** QEMU's get_cluster_table: the L2 table of {@code guest} allocated, or copied when shared. */
    public void clusterTable(long guest) throws IOException { tables.writable(guest); }

    /**
     * QEMU's calculate_l2_meta: the copy-on-write regions {startFrom, startTo, endFrom, endTo}
     * (relative to {@code guestCluster}) when bytes [{@code from}, {@code to}) of {@code nb}
     * clusters from it get new host clusters. The head is copied from the cluster's start, the
     * tail up to its end, except that with extended L2 leading and trailing subclusters with no
     * data (unallocated or zero) are not copied: they stay so in the new cluster.
     */
    public long[] cowRegions(long guestCluster, long nb, long from, long to) throws IOException {
        ClusterGeometry geo = writer.geometry();
        long cs = geo.clusterSize();
        int scBits = Integer.numberOfTrailingZeros(geo.subclusterSize());
        int perCluster = geo.subclustersPerCluster();
        long lastCluster = guestCluster + (nb - 1) * cs;
        long endInLast = to - (nb - 1) * cs;
        int firstSc = (int) (from >>> scBits);
        int lastSc = (int) ((endInLast - 1) >>> scBits);
        L2Entry first = entryOrNull(guestCluster);
        L2Entry last = entryOrNull(lastCluster);
        long startFrom = switch (first) {
            case null -> (long) firstSc << scBits;
            case L2Entry.Compressed c -> 0;
            case L2Entry.Normal n -> geo.extendedL2()
                    ? (long) Math.min(firstSc, Long.numberOfTrailingZeros(n.bitmap() & ALL_SUBCLUSTERS_ALLOCATED | (1L << 32))) << scBits : 0;
            case L2Entry.Zero z -> z.preallocated() ? 0 : (long) firstSc << scBits;
            case L2Entry.Unallocated u -> (long) firstSc << scBits;
        };
        long endTo = switch (last) {
            case null -> roundUp(endInLast, 1L << scBits);
            case L2Entry.Compressed c -> cs;
            case L2Entry.Normal n -> geo.extendedL2()
                    ? cs - ((long) Math.min(perCluster - lastSc - 1, Integer.numberOfLeadingZeros((int) n.bitmap())) << scBits) : cs;
            case L2Entry.Zero z -> z.preallocated() ? cs : roundUp(endInLast, 1L << scBits);
            case L2Entry.Unallocated u -> roundUp(endInLast, 1L << scBits);
        };
        long base = (nb - 1) * cs;
        return new long[]{startFrom, from, base + endInLast, base + endTo};
    }

    private L2Entry entryOrNull(long guest) throws IOException {
        return tables.l1Index(guest) >= tables.l1Size() ? null : tables.entry(guest);
    }

    private static long roundUp(long value, long unit) { return (value + unit - 1) / unit * unit; }

    /**
     * QEMU's qcow2_alloc_cluster_link_l2 for preallocated clusters: the guest bytes of the
     * copy-on-write regions {@code cow} ({startFrom, startTo, endFrom, endTo} relative to
     * {@code guestCluster}) are copied into the new clusters (perform_cow), then {@code nb}
     * entries from {@code guestCluster} (one L2 table) point at the clusters from {@code host}
     * with OFLAG_COPIED. With {@code prealloc} an extended-L2 entry keeps its subcluster bitmap
     * (the new area reads as before: zeros or the backing file); without, the subclusters from
     * the start of the copied head to the end of the copied tail become allocated. The clusters
     * the entries replace are freed once the entries are durable ({@link Updates}).
     */
    public void linkPreallocated(long guestCluster, long host, long nb, long[] cow, boolean prealloc)
            throws IOException {
        ClusterGeometry geo = writer.geometry();
        long cs = geo.clusterSize();
        if (cow[1] > cow[0]) copyGuest(guestCluster + cow[0], host + cow[0], (int) (cow[1] - cow[0]));
        if (cow[3] > cow[2]) copyGuest(guestCluster + cow[2], host + cow[2], (int) (cow[3] - cow[2]));
        Updates updates = new Updates();
        for (long i = 0; i < nb; i++) {
            L2Tables.Slot slot = tables.writable(guestCluster + i * cs);
            L2Entry old = tables.entry(slot);
            long bitmap = !geo.extendedL2() ? 0
                    : prealloc ? keptBitmap(old, i == 0 ? cow[1] : 0, geo)
                    : writtenBitmap(geo, Math.max(cow[0] - i * cs, 0), Math.min(cow[3] - i * cs, cs));
            updates.add(slot, (host + i * cs) | L2Entry.COPIED, bitmap, old != null && Updates.hasHost(old) ? old : null);
        }
        updates.commit(storage, tables, allocator, geo);
    }

    /** Allocation bits for the subclusters of bytes [from, to) of one cluster (zero bits cleared). */
    private static long writtenBitmap(ClusterGeometry geo, long from, long to) {
        if (to <= from) return 0;
        int sc = geo.subclusterSize();
        int first = (int) (from / sc);
        int last = (int) ((to - 1) / sc);
        return ((1L << (last + 1)) - 1) & ~((1L << first) - 1);
    }

    private static final long ALL_SUBCLUSTERS_ALLOCATED = 0xFFFF_FFFFL;

    /**
     * The bitmap a preallocated entry keeps (QEMU leaves it as it was). A compressed cluster has
     * no bitmap; its copied head is marked allocated so that it stays readable (QEMU would
     * leave it unallocated, showing the backing file or zeros instead of the data).
     */
    private static long keptBitmap(L2Entry old, long headBytes, ClusterGeometry geo) {
        return switch (old) {
            case null -> 0;
            case L2Entry.Compressed c -> headBytes == 0 ? 0 : (1L << ((headBytes + geo.subclusterSize() - 1) / geo.subclusterSize())) - 1;
            case L2Entry.Normal n -> n.bitmap();
            case L2Entry.Zero z -> z.bitmap();
            case L2Entry.Unallocated u -> u.bitmap();
        };
    }

    /**
     * Copies {@code len} guest bytes as the image reads them now (backing file included) to
     * {@code host}; encrypted for their new place on an encrypted image (do_perform_cow_encrypt).
     */
    private void copyGuest(long guest, long host, int len) throws IOException {
        byte[] bytes = new byte[len];
        reader.read(new GuestOffset(guest), bytes, 0, len);
        switch (reader.encryption()) {
            case Encryption.Unlocked key -> {
                if (guest % Encryption.SECTOR != 0 || len % Encryption.SECTOR != 0) {
                    throw new IllegalStateException("copy-on-write of " + len + " bytes at guest " + guest + " is not sector-aligned");
                }
                key.encrypt(host, guest, bytes, 0, len);
            }
            case Encryption.None none -> { }
            case Encryption.Locked locked -> throw locked.refusal(storage.describe());
        }
        storage.write(host, bytes);
    }
}
