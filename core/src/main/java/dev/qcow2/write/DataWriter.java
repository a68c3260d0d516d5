package dev.qcow2.write;

import dev.qcow2.CorruptImageException;
import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.L2Entry;
import dev.qcow2.format.SubclusterType;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;

/**
 * Guest data writes, cluster by cluster, as QEMU's qcow2_alloc_host_offset: a cluster whose
 * entry has OFLAG_COPIED (refcount 1) is written in place (handle_copied); any other — not
 * allocated, zero, compressed, or shared with a snapshot — gets a new host cluster holding the
 * written bytes plus a copy of the untouched part of the guest view (handle_alloc +
 * perform_cow). With extended L2 only written subclusters become allocated; only partially
 * written subclusters are copied, plus, when leaving a shared or compressed cluster, the
 * subclusters that held data there.
 */
final class DataWriter {
    private final SyncedStorage storage;
    private final ClusterGeometry geo;
    private final L2Tables tables;
    private final ClusterAllocator allocator;
    private final GuestReader reader;

    DataWriter(SyncedStorage storage, ClusterGeometry geo, L2Tables tables, ClusterAllocator allocator, GuestReader reader) {
        this.storage = storage;
        this.geo = geo;
        this.tables = tables;
        this.allocator = allocator;
        this.reader = reader;
    }

    void write(long guestOffset, byte[] data, int off, int len) throws IOException {
        Updates updates = new Updates();
        while (len > 0) {
            int from = (int) geo.offsetInCluster(guestOffset);
            int n = Math.min(len, geo.clusterSize() - from);
            long clusterStart = guestOffset - from;
            if (geo.extendedL2()) writeExtended(clusterStart, from, from + n, data, off, updates);
            else writeStandard(clusterStart, from, from + n, data, off, updates);
            guestOffset += n;
            off += n;
            len -= n;
        }
        updates.commit(storage, tables, allocator, geo);
    }

    private void writeStandard(long clusterStart, int from, int to, byte[] src, int srcOff, Updates updates) throws IOException {
        L2Tables.Slot slot = tables.writable(clusterStart);
        L2Entry e = tables.entry(slot);
        if (e instanceof L2Entry.Normal n && n.copied()) {
            storage.write(n.hostOffset() + from, src, srcOff, to - from);
            return;
        }
        // A preallocated zero cluster of our own is reused, as QEMU's cluster_needs_new_alloc.
        boolean reuse = e instanceof L2Entry.Zero z && z.preallocated() && z.copied();
        long host = reuse ? ((L2Entry.Zero) e).hostOffset() : allocator.allocate(geo.clusterSize());
        byte[] cluster = new byte[geo.clusterSize()];
        if (from != 0 || to != geo.clusterSize()) reader.read(clusterStart, cluster, 0, cluster.length);
        System.arraycopy(src, srcOff, cluster, from, to - from);
        storage.write(host, cluster);
        updates.add(slot, host | L2Entry.COPIED, 0, reuse || !Updates.hasHost(e) ? null : e);
    }

    private void writeExtended(long clusterStart, int from, int to, byte[] src, int srcOff, Updates updates) throws IOException {
        L2Tables.Slot slot = tables.writable(clusterStart);
        L2Entry e = tables.entry(slot);
        boolean inPlace = e instanceof L2Entry.Normal n && n.copied();
        long oldBitmap = e == null || e instanceof L2Entry.Compressed ? 0 : e.bitmap();
        long host = inPlace ? ((L2Entry.Normal) e).hostOffset() : allocator.allocate(geo.clusterSize());
        int sc = geo.subclusterSize();
        long bitmap = 0;
        for (int i = 0; i < geo.subclustersPerCluster(); i++) {
            int a = i * sc, b = a + sc;
            int wa = Math.max(a, from), wb = Math.min(b, to);
            SubclusterType type = e == null ? SubclusterType.UNALLOCATED_PLAIN : e.subcluster(i);
            if (type == SubclusterType.INVALID) {
                throw new CorruptImageException(storage.describe(), "L2 table", slot.index(), e.raw(),
                        "invalid subcluster bitmap at guest offset 0x" + Long.toHexString(clusterStart));
            }
            if (wa < wb) {
                bitmap |= 1L << i;
                if ((wa == a && wb == b) || (inPlace && type == SubclusterType.NORMAL)) {
                    storage.write(host + wa, src, srcOff + wa - from, wb - wa);
                } else {
                    byte[] chunk = new byte[sc];
                    reader.read(clusterStart + a, chunk, 0, sc);
                    System.arraycopy(src, srcOff + wa - from, chunk, wa - a, wb - wa);
                    storage.write(host + a, chunk);
                }
            } else if (inPlace) {
                bitmap |= oldBitmap & ((1L << i) | (1L << (i + 32)));
            } else if (type == SubclusterType.NORMAL || type == SubclusterType.COMPRESSED) {
                bitmap |= 1L << i;
                byte[] chunk = new byte[sc];
                reader.read(clusterStart + a, chunk, 0, sc);
                storage.write(host + a, chunk);
            } else if (type.isZero()) {
                bitmap |= 1L << (i + 32);
            }
        }
        if (inPlace && bitmap == oldBitmap) return;
        updates.add(slot, host | L2Entry.COPIED, bitmap, inPlace || !Updates.hasHost(e) ? null : e);
    }
}
