package dev.qcow2.write;

import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.L2Entry;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;

/**
 * Write-zeroes and discard, as QEMU's qcow2_subcluster_zeroize (zero_in_l2_slice,
 * zero_l2_subclusters) and qcow2_cluster_discard (discard_in_l2_slice, full_discard=false).
 */
final class ZeroDiscard {
    private static final int ZERO_CHUNK = 1 << 20;

    private final SyncedStorage storage;
    private final ClusterGeometry geo;
    private final L2Tables tables;
    private final ClusterAllocator allocator;
    private final DataWriter data;
    private final int version;
    private final boolean hasBacking;

    ZeroDiscard(SyncedStorage storage, ClusterGeometry geo, L2Tables tables, ClusterAllocator allocator,
                DataWriter data, int version, boolean hasBacking) {
        this.storage = storage;
        this.geo = geo;
        this.tables = tables;
        this.allocator = allocator;
        this.data = data;
        this.version = version;
        this.hasBacking = hasBacking;
    }

    /**
     * Makes {@code [offset, offset+length)} read as zeros. v3: whole clusters get the zero flag
     * (an allocated cluster keeps its host cluster as preallocated zero unless {@code unmap};
     * a compressed one is always released), whole subclusters get zero bits on extended L2;
     * the rest, and everything on v2, is written as explicit zeros (QEMU's -ENOTSUP fallback).
     */
    void writeZeroes(long offset, long length, long diskSize, boolean unmap) throws IOException {
        if (version < 3) {
            explicitZeros(offset, length);
            return;
        }
        Updates updates = new Updates();
        long end = offset + length;
        while (offset < end) {
            long clusterStart = offset - geo.offsetInCluster(offset);
            long clusterEnd = Math.min(clusterStart + geo.clusterSize(), diskSize);
            long stop = Math.min(end, clusterStart + geo.clusterSize());
            if (offset == clusterStart && stop >= clusterEnd) {
                zeroCluster(clusterStart, unmap, updates);
            } else if (geo.extendedL2()) {
                zeroSubclusters(clusterStart, (int) (offset - clusterStart), (int) (stop - clusterStart), clusterEnd - clusterStart, updates);
            } else {
                explicitZeros(offset, stop - offset);
            }
            offset = stop;
        }
        updates.commit(storage, tables, allocator, geo);
    }

    private void zeroCluster(long clusterStart, boolean unmap, Updates updates) throws IOException {
        L2Tables.Slot slot = tables.writable(clusterStart);
        L2Entry e = tables.entry(slot);
        boolean release = e instanceof L2Entry.Compressed || (unmap && Updates.hasHost(e));
        long raw = release ? 0 : e.raw();
        long bitmap = e.bitmap();
        if (geo.extendedL2()) bitmap = L2Entry.BITMAP_ALL_ZERO;
        else raw |= L2Entry.ZERO;
        if (raw == e.raw() && bitmap == e.bitmap()) return;
        updates.add(slot, raw, bitmap, release ? e : null);
    }

    /** Extended L2: zero bits for the whole subclusters of {@code [from, to)}, explicit zeros for the edges. */
    private void zeroSubclusters(long clusterStart, int from, int to, long clusterLength, Updates updates) throws IOException {
        int sc = geo.subclusterSize();
        int first = (from + sc - 1) / sc;
        int last = to >= clusterLength ? (int) ((clusterLength + sc - 1) / sc) : to / sc;
        L2Entry current = tables.entry(clusterStart);
        if (first >= last || current instanceof L2Entry.Compressed) {
            explicitZeros(clusterStart + from, to - from);
            return;
        }
        if (from < first * sc) explicitZeros(clusterStart + from, first * sc - from);
        if (to > last * sc) explicitZeros(clusterStart + last * sc, to - last * sc);
        L2Tables.Slot slot = tables.writable(clusterStart);
        L2Entry e = tables.entry(slot);
        long range = ((last - first == 32) ? 0xffff_ffffL : ((1L << (last - first)) - 1)) << first;
        long bitmap = (e.bitmap() | (range << 32)) & ~range;
        if (bitmap != e.bitmap()) updates.add(slot, e.raw(), bitmap, null);
    }

    private void explicitZeros(long offset, long length) throws IOException {
        byte[] zeros = new byte[(int) Math.min(length, ZERO_CHUNK)];
        while (length > 0) {
            int n = (int) Math.min(length, zeros.length);
            data.write(offset, zeros, 0, n);
            offset += n;
            length -= n;
        }
    }

    /**
     * Discards the whole clusters of the range (and a partial last cluster ending the disk); the
     * rest is ignored, as QEMU does. An affected cluster becomes a zero cluster on v3 (zero
     * bitmap on extended L2) or unallocated on v2 — when it held data or a backing file could
     * show through; its host cluster loses a reference.
     */
    void discard(long offset, long length, long diskSize) throws IOException { discard(offset, length, diskSize, false); }

    /** @param full QEMU's full_discard: entries become unallocated (the backing file shows through), as a shrink does */
    void discard(long offset, long length, long diskSize, boolean full) throws IOException {
        Updates updates = new Updates();
        long end = Math.min(offset + length, diskSize);
        long cluster = geo.roundUpToCluster(offset);
        while (cluster < end) {
            long clusterEnd = Math.min(cluster + geo.clusterSize(), diskSize);
            if (clusterEnd > end) break;
            L2Tables.Slot slot = tables.writable(cluster);
            L2Entry e = tables.entry(slot);
            long raw = e.raw(), bitmap = e.bitmap();
            if (full) {
                raw = 0;
                bitmap = 0;
            } else if (hasBacking || Updates.hasHost(e)) {
                if (geo.extendedL2()) {
                    raw = 0;
                    bitmap = L2Entry.BITMAP_ALL_ZERO;
                } else {
                    raw = version >= 3 ? L2Entry.ZERO : 0;
                }
            }
            if (raw != e.raw() || bitmap != e.bitmap()) updates.add(slot, raw, bitmap, Updates.hasHost(e) ? e : null);
            cluster += geo.clusterSize();
        }
        updates.commit(storage, tables, allocator, geo);
    }
}
