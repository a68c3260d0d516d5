package dev.qcow2.amend;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.RefcountStore;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.RefcountBlockCodec;
import dev.qcow2.refcount.RefcountReader;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.TreeSet;

/**
 * Rewrites the refcount structure at another entry width, as QEMU's
 * qcow2_change_refcount_order (block/qcow2-refcount.c) does: every refcount is copied into new
 * refcount blocks of the new width, which (with the new refcount table) count themselves.
 *
 * <p>Crash safety: the new blocks and table go to fresh clusters past everything in use and
 * are flushed while the old structure is still in force; then one header write inside the
 * first sector (bytes 48-99: reftable offset and size, the fields between them unchanged, and
 * refcount_order) switches to the new structure, flushed; only then are the old blocks and
 * table freed through the new structure. A crash leaves either structure in force, at worst
 * with leaked clusters.
 */
final class RefcountOrderChange {
    private static final int SWITCH_FROM = 48;
    private static final int SWITCH_TO = 100;

    private RefcountOrderChange() { }

    static void change(SyncedStorage storage, Qcow2Header h, int newOrder) throws IOException {
        ClusterGeometry oldGeo = h.geometry();
        ClusterGeometry newGeo = new ClusterGeometry(h.clusterBits(), newOrder, oldGeo.extendedL2());
        RefcountStore old = new RefcountStore(storage, oldGeo, h.refcountTableOffset(), (int) h.refcountTableClusters());
        long[] counts = readAll(storage, old);
        long max = RefcountBlockCodec.max(newOrder);
        for (int c = 0; c < counts.length; c++) {
            if (Long.compareUnsigned(counts[c], max) > 0) {
                throw new Qcow2Exception(storage.describe(), "Cannot decrease refcount entry width to " + newGeo.refcountBits()
                        + " bits: Cluster at offset 0x" + Long.toHexString((long) c << h.clusterBits())
                        + " has a refcount of " + Long.toUnsignedString(counts[c]));
            }
        }
        int cs = h.clusterSize();
        long perBlock = newGeo.refblockEntries();
        TreeSet<Long> used = new TreeSet<>();
        for (int c = 0; c < counts.length; c++) if (counts[c] != 0) used.add(c / perBlock);
        // The area of new blocks and table starts past the file and past every counted cluster.
        long areaStart = Math.max(counts.length, newGeo.clustersCovering(storage.length()));
        long blocks = 0, tableClusters = 1;
        TreeSet<Long> indexes;
        while (true) {
            indexes = new TreeSet<>(used);
            long areaEnd = areaStart + blocks + tableClusters;
            for (long t = areaStart / perBlock; t <= (areaEnd - 1) / perBlock; t++) indexes.add(t);
            long needTable = Math.max(1, ((indexes.last() + 1) * 8 + cs - 1) / cs);
            if (indexes.size() == blocks && needTable == tableClusters) break;
            blocks = indexes.size();
            tableClusters = needTable;
        }
        if (tableClusters * cs > Qcow2Header.MAX_REFTABLE_BYTES) {
            throw new Qcow2Exception(storage.describe(), "refcount table would exceed " + Qcow2Header.MAX_REFTABLE_BYTES + " bytes");
        }
        long areaEnd = areaStart + blocks + tableClusters;
        long[] table = new long[(int) (tableClusters * cs / 8)];
        long next = areaStart;
        for (long t : indexes) {
            byte[] content = new byte[cs];
            for (long i = 0; i < perBlock; i++) {
                long c = t * perBlock + i;
                long v = c < counts.length ? counts[(int) c] : 0;
                if (c >= areaStart && c < areaEnd) v = 1;
                if (v != 0) RefcountBlockCodec.set(content, newOrder, i, v);
            }
            storage.write(next << h.clusterBits(), content);
            table[(int) t] = next << h.clusterBits();
            next++;
        }
        long tableOffset = next << h.clusterBits();
        ByteBuffer tb = ByteBuffer.allocate((int) (tableClusters * cs));
        tb.asLongBuffer().put(table);
        storage.write(tableOffset, tb.array());
        storage.barrier();

        ByteBuffer sw = ByteBuffer.wrap(storage.read(SWITCH_FROM, SWITCH_TO - SWITCH_FROM));
        sw.putLong(0, tableOffset).putInt(8, (int) tableClusters).putInt(96 - SWITCH_FROM, newOrder);
        storage.write(SWITCH_FROM, sw.array());
        storage.flush();

        RefcountStore fresh = new RefcountStore(storage, newGeo, tableOffset, (int) tableClusters);
        ClusterAllocator allocator = new ClusterAllocator(storage, fresh);
        for (int t = 0; t < old.tableEntries(); t++) {
            long off = old.blockOffset(t);
            if (off != 0) allocator.free(off, cs);
        }
        allocator.free(h.refcountTableOffset(), h.refcountTableClusters() * cs);
        storage.flush();
    }

    /** Every refcount of the old structure, indexed by host cluster (up to the last nonzero one). */
    private static long[] readAll(SyncedStorage storage, RefcountStore old) throws IOException {
        RefcountReader reader = old.reader();
        long perBlock = old.entriesPerBlock();
        long[] counts = new long[0];
        int last = -1;
        for (int t = 0; t < old.tableEntries(); t++) {
            long off = old.blockOffset(t);
            if (off == 0) continue;
            for (long i = 0; i < perBlock; i++) {
                long v = reader.get(t * perBlock + i);
                if (v == 0) continue;
                long c = t * perBlock + i;
                if (c >= Integer.MAX_VALUE) throw new Qcow2Exception(storage.describe(), "image too large to change its refcount width");
                if (c >= counts.length) counts = Arrays.copyOf(counts, (int) Math.max(c + 1, Math.min(Integer.MAX_VALUE - 8, counts.length * 2L)));
                counts[(int) c] = v;
                last = (int) Math.max(last, c);
            }
        }
        return Arrays.copyOf(counts, last + 1);
    }
}
