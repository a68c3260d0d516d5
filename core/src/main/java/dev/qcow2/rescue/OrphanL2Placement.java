package dev.qcow2.rescue;

import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * L2 tables no L1 reached (L1 lost): positioned by a guest signature one of them maps, then where
 * the guest file system has data in the clusters they map, else in host order (QEMU allocates an
 * L2 table when the guest first writes into its span). Inferred, and reported so. Table-shaped
 * clusters that are L1 tables whose L2s were zeroed, or refcount tables, are set aside first.
 */
final class OrphanL2Placement extends Evidence {
    OrphanL2Placement(Evidence shared) { super(shared); }

    /** Whether every set entry of table cluster {@code t} points at an all-zero cluster (an L1 whose L2s were zeroed). */
    private boolean targetsAllZero(int t) throws IOException {
        ByteBuffer b = cluster(t);
        for (int i = 0; i + 8 <= b.capacity(); i += geo.l2EntrySize()) {
            long raw = b.getLong(i);
            if (raw == 0) continue;
            L2Entry e = L2Entry.decode(raw, 0, geo, false);
            long host = switch (e) {
                case L2Entry.Normal n -> n.hostOffset();
                case L2Entry.Compressed c -> -1;
                case L2Entry.Zero z -> -1;
                case L2Entry.Unallocated u -> -1;
            };
            if (host < 0) return false;
            int h = hostCluster(host);
            if (h < scan.clusters() && scan.kind[h] != HostScan.ZERO) return false;
        }
        return true;
    }

    /**
     * L2 tables no L1 reached: position by a guest signature one of them maps, then the rest in
     * host order after it (QEMU allocates an L2 table when the guest first writes into its span,
     * in guest order for qemu-img convert). Inferred.
     */
    void placeOrphanL2s() throws IOException {
        List<Integer> orphans = new ArrayList<>();
        for (int c = 1; c < scan.clusters(); c++) {
            if (scan.kind[c] != HostScan.TABLE || role[c] != ROLE_NONE) continue;
            if (targetsAllZero(c)) {
                role[c] = ROLE_L1;
                structures.add(new RescueReport.Structure("L1 (found, its L2 tables zeroed)", scan.hostOffset(c), "found",
                        "table-shaped cluster whose entries all point at zeroed clusters"));
                continue;
            }
            if (pointsAtRefblocks(c)) {
                role[c] = ROLE_REFTABLE;
                structures.add(new RescueReport.Structure("refcount table (found)", scan.hostOffset(c), "found", "entries point at refcount-block-shaped clusters"));
                continue;
            }
            orphans.add(c);
        }
        if (orphans.isEmpty()) return;
        BitSet usedIndex = new BitSet();
        for (long g = 0; g < map.extent(); g++) if (map.placed(g)) usedIndex.set((int) (g >>> geo.l2Bits()));
        long[] index = new long[orphans.size()];
        java.util.Arrays.fill(index, -1);
        boolean[] anchored = new boolean[orphans.size()], fsPlaced = new boolean[orphans.size()];
        for (int k = 0; k < orphans.size(); k++) { index[k] = anchorIndex(orphans.get(k)); anchored[k] = index[k] >= 0; }
        // Place the anchored tables first: the guest file system they map tells where the others go.
        for (int k = 0; k < orphans.size(); k++) {
            if (index[k] < 0 || usedIndex.get((int) index[k])) continue;
            usedIndex.set((int) index[k]);
            placeTable(orphans.get(k), index[k] * geo.l2Entries(), Placement.ORPHAN_L2);
        }
        BitSet expected = new BitSet();
        long guestClusters = header != null ? (header.size() + geo.clusterSize() - 1) >>> geo.clusterBits() : Integer.MAX_VALUE - 8L;
        for (long start : GuestFs.partitionStarts(view)) GuestFs.expectedNonZero(view, start, geo.clusterBits(), guestClusters, expected);
        long maxIndex = header != null ? Math.max(1, (guestClusters + geo.l2Entries() - 1) / geo.l2Entries())
                : Math.max(usedIndex.length(), (expected.length() + geo.l2Entries() - 1) / geo.l2Entries()) + orphans.size();
        // Unanchored tables, in host order: the free L1 index whose guest span the file system says
        // holds data where the table maps clusters (best agreement); without file-system evidence,
        // the next free index after the previous table (QEMU allocates L2 tables in guest order).
        long next = -1;
        for (int k = 0; k < orphans.size(); k++) {
            if (index[k] >= 0) { next = index[k] + 1; continue; }
            BitSet mapped = mappedEntries(orphans.get(k));
            long best = -1, bestScore = 0;
            for (long i = Math.max(0, next); i < maxIndex && i < Integer.MAX_VALUE / geo.l2Entries(); i++) {
                if (usedIndex.get((int) i)) continue;
                long score = 0;
                for (int j = mapped.nextSetBit(0); j >= 0; j = mapped.nextSetBit(j + 1)) if (expected.get((int) (i * geo.l2Entries() + j))) score++;
                if (score > bestScore) { best = i; bestScore = score; }
            }
            if (best < 0) {
                if (next < 0) next = usedIndex.nextClearBit(0);
                while (usedIndex.get((int) next)) next++;
                best = next;
            }
            index[k] = best;
            usedIndex.set((int) best);
            next = best + 1;
            fsPlaced[k] = bestScore > 0;
        }
        for (int k = 0; k < orphans.size(); k++) {
            int t = orphans.get(k);
            role[t] = ROLE_L2;
            placeTable(t, index[k] * geo.l2Entries(), Placement.ORPHAN_L2);
            structures.add(new RescueReport.Structure("L2 (found, no L1 references it)", scan.hostOffset(t), "found",
                    "placed at L1 index " + index[k] + (anchored[k] ? " by a file-system signature it maps"
                            : fsPlaced[k] ? " where the guest file system has data in the clusters it maps (inferred)" : " by host order (inferred)")));
        }
    }

    /** The entries of table cluster {@code t} that map data (normal, compressed or zero-flagged). */
    private BitSet mappedEntries(int t) throws IOException {
        ByteBuffer b = cluster(t);
        BitSet m = new BitSet();
        for (int j = 0; j < geo.l2Entries(); j++) if (b.getLong(j * geo.l2EntrySize()) != 0) m.set(j);
        return m;
    }

    private boolean pointsAtRefblocks(int t) throws IOException {
        ByteBuffer b = cluster(t);
        int set = 0;
        for (int i = 0; i + 8 <= b.capacity(); i += 8) {
            long raw = b.getLong(i);
            if (raw == 0) continue;
            int h = hostCluster(raw & L1Entry.OFFSET_MASK);
            if (h >= scan.clusters() || scan.kind[h] != HostScan.REFBLOCK) return false;
            set++;
        }
        return set > 0;
    }

    /** The L1 index an orphan L2 table must have, from a guest signature it maps (MBR, ext superblock copy), or -1. */
    private long anchorIndex(int t) throws IOException {
        ByteBuffer b = cluster(t);
        for (int j = 0; j < geo.l2Entries(); j++) {
            L2Entry e = L2Entry.decode(b.getLong(j * geo.l2EntrySize()), 0, geo, false);
            ByteBuffer data;
            if (e instanceof L2Entry.Normal n) {
                int h = hostCluster(n.hostOffset());
                if (h >= scan.clusters() || scan.kind[h] != HostScan.DATA) continue;
                data = plainAt(h, j); // legacy AES: decrypts right for L1 index 0 only
            } else if (e instanceof L2Entry.Compressed c && HostScan.plausible(c, geo, fileSize)) {
                // a compressed image's superblock and partition table are compressed clusters
                byte[] out = new byte[geo.clusterSize()];
                try {
                    decompressInto(c, out);
                } catch (IOException notAStream) {
                    continue;
                }
                data = ByteBuffer.wrap(out);
            } else {
                continue;
            }
            long g = signatureGuestCluster(data, 0);
            if (g >= 0 && g >= j && (g - j) % geo.l2Entries() == 0) return (g - j) / geo.l2Entries();
        }
        return -1;
    }
}
