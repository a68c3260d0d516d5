package dev.qcow2.rescue;

import dev.qcow2.format.L1Entry;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.format.SnapshotTable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Placement through tables the format wrote (certain): the header's active L1, the snapshots'
 * L1 tables, and L1 tables found by scanning (table-shaped clusters whose every entry points at a
 * table-shaped cluster; OFLAG_COPIED on most entries marks the active one). Marks the L1 tables,
 * the refcount table and blocks, and every L2 table and data cluster they reach.
 */
final class TablePlacement extends Evidence {
    /** L1 entries pointing at clusters that no longer hold an L2 table. */
    int lostL2 = 0;

    TablePlacement(Evidence shared) { super(shared); }

    private boolean validL1(long[] entries) {
        for (long raw : entries) {
            L1Entry e = new L1Entry(raw);
            if (e.reservedBits() != 0) return false;
            if (e.allocated() && ((e.l2Offset() & (geo.clusterSize() - 1)) != 0 || e.l2Offset() >= fileSize)) return false;
        }
        return true;
    }

    void collectL1s(List<long[]> l1s, List<Placement> how) throws IOException {
        BitSet known = new BitSet();
        if (header != null) {
            long[] active = readEntries(header.l1TableOffset(), header.l1Size());
            boolean aligned = (header.l1TableOffset() & (geo.clusterSize() - 1)) == 0;
            if (active != null && aligned && validL1(active)) {
                l1s.add(active);
                how.add(Placement.ACTIVE_TABLES);
                markL1(header.l1TableOffset(), active.length, known);
                structures.add(new RescueReport.Structure("active L1", header.l1TableOffset(), "intact", header.l1Size() + " entries, from the header"));
            } else {
                structures.add(new RescueReport.Structure("active L1", header.l1TableOffset(), "lost",
                        "the header's L1 (" + header.l1Size() + " entries) is out of the file or holds invalid entries"));
            }
            try {
                for (SnapshotEntry s : SnapshotTable.read(in, header, true).entries()) {
                    long[] l1 = readEntries(s.l1TableOffset(), s.l1Size());
                    if (l1 != null && validL1(l1)) {
                        l1s.add(l1);
                        how.add(Placement.SNAPSHOT_TABLES);
                        markL1(s.l1TableOffset(), l1.length, known);
                        structures.add(new RescueReport.Structure("snapshot L1", s.l1TableOffset(), "intact",
                                "snapshot '" + s.name() + "' (id " + s.id() + "), " + s.l1Size() + " entries"));
                    }
                }
            } catch (IOException | RuntimeException e) {
                if (header.nbSnapshots() > 0) structures.add(new RescueReport.Structure("snapshot table", header.snapshotsOffset(), "lost", oneLine(e)));
            }
            markReftable();
        }
        // Scanned L1 candidates: table-shaped clusters whose every set entry points at a table-shaped
        // cluster. Consecutive candidates form one table (an L1 spans contiguous clusters).
        List<long[]> copied = new ArrayList<>(), shared = new ArrayList<>();
        int c = 1;
        while (c < scan.clusters()) {
            if (known.get(c) || !l1Shaped(c)) { c++; continue; }
            int start = c;
            while (c < scan.clusters() && !known.get(c) && l1Shaped(c)) c++;
            long[] entries = readEntries(scan.hostOffset(start), (long) (c - start) * geo.clusterSize() / 8);
            if (entries == null) continue;
            for (int k = start; k < c; k++) role[k] = ROLE_L1;
            long set = 0, withCopied = 0;
            for (long e : entries) if (e != 0) { set++; if (new L1Entry(e).copied()) withCopied++; }
            boolean active = withCopied * 2 > set;
            (active ? copied : shared).add(entries);
            structures.add(new RescueReport.Structure(active ? "L1 (found, OFLAG_COPIED: active)" : "L1 (found, shared: a snapshot's)",
                    scan.hostOffset(start), "found", set + " entries pointing at L2-shaped clusters, by scanning"));
        }
        for (long[] e : copied) { l1s.add(e); how.add(Placement.ACTIVE_TABLES); }
        for (long[] e : shared) { l1s.add(e); how.add(Placement.SNAPSHOT_TABLES); }
    }

    private void markL1(long offset, long entries, BitSet known) {
        long end = offset + entries * 8;
        for (long o = offset; o < end && o < fileSize; o += geo.clusterSize()) {
            known.set(hostCluster(o));
            role[hostCluster(o)] = ROLE_L1;
        }
    }

    private void markReftable() throws IOException {
        long off = header.refcountTableOffset(), clusters = header.refcountTableClusters();
        long[] entries = readEntries(off, clusters * geo.clusterSize() / 8);
        if (entries == null || (off & (geo.clusterSize() - 1)) != 0) {
            structures.add(new RescueReport.Structure("refcount table", off, "lost", "out of the file or misaligned (refcounts are rebuilt in the output)"));
            return;
        }
        for (long o = off; o < off + clusters * geo.clusterSize(); o += geo.clusterSize()) role[hostCluster(o)] = ROLE_REFTABLE;
        int blocks = 0;
        for (long e : entries) {
            long b = e & L1Entry.OFFSET_MASK;
            if (b != 0 && b < fileSize && (b & (geo.clusterSize() - 1)) == 0) { role[hostCluster(b)] = ROLE_META; blocks++; }
        }
        structures.add(new RescueReport.Structure("refcount table", off, blocks > 0 ? "intact" : "lost",
                blocks + " refcount blocks referenced (not needed: refcounts are rebuilt in the output)"));
    }

    private boolean l1Shaped(int c) throws IOException {
        if (scan.kind[c] != HostScan.TABLE || role[c] != ROLE_NONE) return false;
        ByteBuffer b = cluster(c);
        int set = 0;
        for (int i = 0; i + 8 <= b.capacity(); i += 8) {
            long raw = b.getLong(i);
            if (raw == 0) continue;
            L1Entry e = new L1Entry(raw);
            if (e.reservedBits() != 0 || !e.allocated()) return false;
            int t = hostCluster(e.l2Offset());
            if (t == c || t >= scan.clusters() || scan.kind[t] != HostScan.TABLE) return false;
            set++;
        }
        return set > 0;
    }

    void placeThroughL1(long[] l1, Placement how) throws IOException {
        for (int i = 0; i < l1.length; i++) {
            L1Entry e = new L1Entry(l1[i]);
            if (!e.allocated()) continue;
            int t = hostCluster(e.l2Offset());
            if (t >= scan.clusters()) continue;
            if (scan.kind[t] != HostScan.TABLE) {
                if (role[t] != ROLE_L2) lostL2++;
                role[t] = ROLE_L2;
                continue;
            }
            role[t] = ROLE_L2;
            placeTable(t, (long) i * geo.l2Entries(), how);
        }
    }
}
