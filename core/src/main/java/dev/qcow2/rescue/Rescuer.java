package dev.qcow2.rescue;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.codec.ClusterDecompressor;
import dev.qcow2.create.CreateOptions;
import dev.qcow2.create.ImageCreator;
import dev.qcow2.format.CompressionType;
import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.format.SnapshotTable;
import dev.qcow2.storage.FileStorage;
import dev.qcow2.storage.Storage;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.units.GuestOffset;
import dev.qcow2.write.Qcow2Writer;
import dev.qcow2.write.WriteOptions;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Rescues a qcow2 image whose metadata is damaged: reads DAMAGED through a read-only channel (no
 * lock, never written) and writes a NEW image holding every guest cluster the evidence places,
 * at its guest offset, through the ordinary create + writer path (so OUT's refcounts are rebuilt
 * from scratch). Evidence, most certain first:
 * <ol>
 *   <li>the header, if it still parses, for geometry, the active L1 and the snapshot table;
 *       otherwise the cluster size is inferred ({@link ClusterSizeInference});</li>
 *   <li>every host cluster classified ({@link HostScan}); L1 tables found as table-shaped
 *       clusters pointing at table-shaped clusters; L2 tables reached from the active L1, then
 *       from snapshot L1s (older copies) — certain;</li>
 *   <li>L2 tables no L1 reaches (L1 lost): positioned by a guest signature they map (MBR at
 *       guest 0, an ext superblock copy whose group number names its offset), else by host order
 *       (QEMU allocates L2 tables as guest writes reach new 512 MiB/… spans) — inferred;</li>
 *   <li>data clusters no table reaches (L2 lost): signature anchors, then allocation order:
 *       {@code qemu-img convert} writes host clusters in guest order, skipping zero clusters, so
 *       the unplaced host clusters in host order are matched to the guest clusters the file
 *       system says hold data ({@link GuestFs#expectedNonZero}), iterated until that set stops
 *       growing; where counts disagree, a host gap equal to the guest gap places linearly —
 *       inferred.</li>
 * </ol>
 * Memory: a byte per host cluster, a few words per guest cluster; no per-byte structures.
 */
public final class Rescuer {
    private static final byte ROLE_NONE = 0, ROLE_DATA = 1, ROLE_L1 = 2, ROLE_L2 = 3, ROLE_REFTABLE = 4, ROLE_META = 5;

    private final Storage in;
    private final String res;
    private final long fileSize;
    private final List<RescueReport.Structure> structures = new ArrayList<>();
    private Qcow2Header header;
    private ClusterGeometry geo;
    private String geometryEvidence;
    private HostScan scan;
    private byte[] role;
    private final GuestMap map = new GuestMap();
    private int lostL2 = 0;

    private Rescuer(Storage in) throws IOException {
        this.in = in;
        this.res = in.describe();
        this.fileSize = in.size();
    }

    /** Rescues {@code damaged} into the new image {@code out}; throws {@link Qcow2Exception} when nothing can be recovered. */
    public static RescueReport rescue(Path damaged, Path out) throws IOException {
        if (Files.exists(out) && Files.isSameFile(damaged, out)) {
            throw new Qcow2Exception(out.toString(), "the rescued image must be a new file, not the damaged one");
        }
        try (FileStorage in = FileStorage.openReadOnly(damaged)) {
            Rescuer r = new Rescuer(in);
            return r.run(out);
        }
    }

    private RescueReport run(Path out) throws IOException {
        if (fileSize < 512) throw new Qcow2Exception(res, "nothing recoverable: the file holds " + fileSize + " bytes");
        readHeader();
        scan = HostScan.scan(in, geo);
        role = new byte[scan.clusters()];
        role[0] = ROLE_META;
        List<long[]> l1s = new ArrayList<>();
        List<Placement> l1How = new ArrayList<>();
        collectL1s(l1s, l1How);
        for (int i = 0; i < l1s.size(); i++) placeThroughL1(l1s.get(i), l1How.get(i));
        if (lostL2 > 0) structures.add(new RescueReport.Structure("L2 tables", -1, "lost",
                lostL2 + " L1 entries point at clusters that no longer hold an L2 table"));
        placeOrphanL2s();
        List<Long> fsStarts = placeBySignatures();
        placeByAllocationOrder(fsStarts);
        long virtualSize = virtualSize(fsStarts);
        if (map.extent() == 0) throw new Qcow2Exception(res, "nothing recoverable: no table, file-system signature or data cluster could be placed");
        Map<Placement, Long> placed = write(out, virtualSize);
        structures.add(new RescueReport.Structure("refcounts", -1, "rebuilt", "written fresh in " + out.getFileName() + " by the image writer"));
        List<Long> leftoverHosts = new ArrayList<>();
        long leftover = 0;
        for (int c = 0; c < scan.clusters(); c++) {
            if (scan.kind[c] == HostScan.DATA && role[c] == ROLE_NONE) {
                if (leftoverHosts.size() < RescueReport.LEFTOVER_LISTED) leftoverHosts.add(scan.hostOffset(c));
                leftover++;
            }
        }
        return new RescueReport(res, out.toString(), geo.clusterSize(), geometryEvidence, virtualSize, sizeEvidence,
                List.copyOf(structures), placed, leftover, List.copyOf(leftoverHosts));
    }

    // ---- header and geometry -------------------------------------------------------------

    private void readHeader() throws IOException {
        try {
            header = Qcow2Header.read(in);
            geo = header.geometry();
            geometryEvidence = "header";
            structures.add(new RescueReport.Structure("header", 0, "intact", "magic, version " + header.version()
                    + ", cluster_bits " + header.clusterBits() + ", size " + header.size()));
            if (header.cryptMethod() != Qcow2Header.CRYPT_NONE) {
                throw new Qcow2Exception(res, "rescue of encrypted images is not supported (crypt_method " + header.cryptMethod() + ")");
            }
            if (header.hasExternalDataFile()) {
                throw new Qcow2Exception(res, "rescue of images with an external data file is not supported");
            }
            return;
        } catch (Qcow2Exception e) {
            if (e.getMessage() != null && e.getMessage().contains("not supported")) throw e;
            header = null;
        } catch (IOException | RuntimeException e) {
            header = null;
        }
        ClusterSizeInference.Result r = ClusterSizeInference.infer(in, false);
        if (r.clusterBits() < 0) {
            int bits = clusterBitsFromData();
            geo = new ClusterGeometry(bits, 4, false);
            geometryEvidence = "guessed: no table-shaped cluster at any size; " + geo.clusterSize()
                    + " bytes from the file size and the host alignment of an ext superblock";
        } else {
            geo = new ClusterGeometry(r.clusterBits(), 4, false);
            geometryEvidence = "inferred: " + r.score() + " plausible table entries at " + geo.clusterSize()
                    + " bytes (the largest size within 90 % of the best score)";
        }
        structures.add(new RescueReport.Structure("header", 0, "lost", "no qcow2 header at offset 0; cluster size " + geometryEvidence));
    }

    /**
     * Without any table: QEMU allocates whole clusters, so the file size is a multiple of the
     * cluster size, and a guest ext superblock (guest offset 1024 of its cluster) sits 1024 bytes
     * past a cluster boundary. The largest power of two (512 B .. 2 MiB) both allow; 64 KiB
     * (QEMU's default) when neither says anything.
     */
    private int clusterBitsFromData() throws IOException {
        int bits = Math.min(ClusterGeometry.MAX_CLUSTER_BITS, Long.numberOfTrailingZeros(fileSize));
        ByteBuffer b = ByteBuffer.allocate(1 << 12);
        boolean sbSeen = false;
        for (long at = 0; at + b.capacity() <= fileSize; at += b.capacity()) {
            HostScan.readCluster(in, at, fileSize, b);
            for (GuestFs.SuperblockHit hit : GuestFs.superblocks(b)) {
                if (hit.sb().groupNr() != 0 || hit.inCluster() != 1024) continue;
                bits = Math.min(bits, Long.numberOfTrailingZeros(at));
                sbSeen = true;
            }
            if (sbSeen) break;
        }
        if (!sbSeen) bits = Math.min(bits, 16);
        return Math.max(ClusterGeometry.MIN_CLUSTER_BITS, bits);
    }

    // ---- L1 tables -------------------------------------------------------------------------

    private long[] readEntries(long offset, long count) throws IOException {
        long bytes = count * 8;
        if (count <= 0 || bytes > Qcow2Header.MAX_L1_BYTES || offset < 0 || offset + bytes > fileSize) return null;
        ByteBuffer b = ByteBuffer.allocate((int) bytes);
        in.readFully(offset, b);
        long[] e = new long[(int) count];
        for (int i = 0; i < e.length; i++) e[i] = b.getLong(i * 8);
        return e;
    }

    private boolean validL1(long[] entries) {
        for (long raw : entries) {
            L1Entry e = new L1Entry(raw);
            if (e.reservedBits() != 0) return false;
            if (e.allocated() && ((e.l2Offset() & (geo.clusterSize() - 1)) != 0 || e.l2Offset() >= fileSize)) return false;
        }
        return true;
    }

    private int hostCluster(long offset) { return (int) (offset >>> geo.clusterBits()); }

    private void collectL1s(List<long[]> l1s, List<Placement> how) throws IOException {
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

    private ByteBuffer cluster(int c) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(geo.clusterSize());
        HostScan.readCluster(in, scan.hostOffset(c), fileSize, b);
        return b;
    }

    // ---- L2 tables -----------------------------------------------------------------------------

    private void placeThroughL1(long[] l1, Placement how) throws IOException {
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

    private void placeTable(int t, long firstGuestCluster, Placement how) throws IOException {
        ByteBuffer b = cluster(t);
        int step = geo.l2EntrySize();
        for (int j = 0; j < geo.l2Entries(); j++) {
            long raw = b.getLong(j * step), bitmap = geo.extendedL2() ? b.getLong(j * step + 8) : 0;
            long g = firstGuestCluster + j;
            if (map.placed(g)) continue;
            L2Entry entry = L2Entry.decode(raw, bitmap, geo, false);
            switch (entry) {
                case L2Entry.Unallocated u -> {
                    if (geo.extendedL2() && (u.bitmap() >>> 32) != 0) map.place(g, raw, bitmap, how);
                }
                case L2Entry.Zero z -> map.place(g, raw, bitmap, how);
                case L2Entry.Normal n -> {
                    int h = hostCluster(n.hostOffset());
                    if (h < scan.clusters()) { map.place(g, raw, bitmap, how); role[h] = ROLE_DATA; }
                }
                case L2Entry.Compressed c -> {
                    if (c.lastHostByte() < fileSize + 512) {
                        map.place(g, raw, bitmap, how);
                        for (long o = c.firstHostByte() & -geo.clusterSize(); o <= Math.min(c.lastHostByte(), fileSize - 1); o += geo.clusterSize()) {
                            role[hostCluster(o)] = ROLE_DATA;
                        }
                    }
                }
            }
        }
    }

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
    private void placeOrphanL2s() throws IOException {
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
            if (!(e instanceof L2Entry.Normal n)) continue;
            int h = hostCluster(n.hostOffset());
            if (h >= scan.clusters() || scan.kind[h] != HostScan.DATA) continue;
            long g = signatureGuestCluster(cluster(h), 0);
            if (g >= 0 && g >= j && (g - j) % geo.l2Entries() == 0) return (g - j) / geo.l2Entries();
        }
        return -1;
    }

    /** The guest cluster a host cluster's signature names (fs at {@code fsStart}), or -1. */
    private long signatureGuestCluster(ByteBuffer c, long fsStart) {
        if (GuestFs.isMbr(c)) return 0;
        for (GuestFs.SuperblockHit hit : GuestFs.superblocks(c)) {
            long guestByte = fsStart + hit.sb().copyOffset(hit.sb().groupNr());
            if ((guestByte & (geo.clusterSize() - 1)) == hit.inCluster()) return guestByte >>> geo.clusterBits();
        }
        return -1;
    }

    // ---- data clusters no table places -----------------------------------------------------------

    private final GuestFs.GuestView view = (guestOffset, len) -> {
        try {
            byte[] out = new byte[len];
            long end = guestOffset + len;
            for (long o = guestOffset; o < end; ) {
                long g = o >>> geo.clusterBits();
                if (!map.placed(g)) return null;
                byte[] data = guestCluster(g);
                int in = (int) (o & (geo.clusterSize() - 1));
                int n = (int) Math.min(geo.clusterSize() - in, end - o);
                System.arraycopy(data, in, out, (int) (o - guestOffset), n);
                o += n;
            }
            return out;
        } catch (IOException e) {
            return null;
        }
    };

    private boolean candidate(int h) { return scan.kind[h] == HostScan.DATA && role[h] == ROLE_NONE; }

    /** Places MBR/GPT and ext superblock copies found in unplaced host clusters; returns the file-system starts. */
    private List<Long> placeBySignatures() throws IOException {
        int anchors = 0;
        for (int h = 1; h < scan.clusters(); h++) {
            if (!candidate(h)) continue;
            if (GuestFs.isMbr(cluster(h)) && !map.placed(0)) {
                map.place(0, scan.hostOffset(h), allBitmap(), Placement.FS_SIGNATURE);
                role[h] = ROLE_DATA;
                anchors++;
                structures.add(new RescueReport.Structure("guest partition table (MBR/GPT)", scan.hostOffset(h), "found", "boot signature and partition entries: guest offset 0"));
            }
        }
        List<Long> starts = GuestFs.partitionStarts(view);
        for (int h = 1; h < scan.clusters(); h++) {
            if (!candidate(h)) continue;
            ByteBuffer c = cluster(h);
            for (long start : starts) {
                long g = signatureGuestCluster(c, start);
                if (g >= 0 && !map.placed(g) && !GuestFs.isMbr(c)) {
                    map.place(g, scan.hostOffset(h), allBitmap(), Placement.FS_SIGNATURE);
                    role[h] = ROLE_DATA;
                    anchors++;
                    break;
                }
            }
        }
        if (anchors > 0) structures.add(new RescueReport.Structure("guest file-system signatures", -1, "found",
                anchors + " host clusters placed by a partition table or an ext2/3/4 superblock copy naming its own offset"));
        for (long start : starts) placeExtObjects(start);
        return starts;
    }

    /**
     * ext2/3/4 objects that name themselves: group 0's inode table (inode 2 is the root
     * directory) at the block the group descriptor gives, then the first block of every
     * directory (its "." entry names the directory's inode, ".." follows) at the block its inode
     * gives. Each found in an unplaced host cluster at the in-cluster offset its guest block
     * implies.
     */
    private void placeExtObjects(long fsStart) throws IOException {
        byte[] sbBytes = view.read(fsStart + 1024, 1024);
        GuestFs.Superblock sb = sbBytes == null ? null : GuestFs.Superblock.parse(GuestFs.le(sbBytes), 0);
        if (sb == null) return;
        int found = 0;
        long gdt = fsStart + (sb.firstDataBlock() + 1L) * sb.blockSize();
        if (!map.placed(gdt >>> geo.clusterBits())) {
            int off = (int) (gdt & (geo.clusterSize() - 1));
            for (int h = 1; h < scan.clusters(); h++) {
                if (candidate(h) && GuestFs.plausibleDescriptor(cluster(h), off, sb)) {
                    map.place(gdt >>> geo.clusterBits(), scan.hostOffset(h), allBitmap(), Placement.FS_SIGNATURE);
                    role[h] = ROLE_DATA;
                    found++;
                    break;
                }
            }
        }
        long table = GuestFs.inodeTable(view, fsStart, sb, 0);
        if (table >= 0) {
            long at = fsStart + table * sb.blockSize();
            long g = at >>> geo.clusterBits();
            int off = (int) (at & (geo.clusterSize() - 1));
            if (!map.placed(g)) {
                for (int h = 1; h < scan.clusters(); h++) {
                    if (candidate(h) && GuestFs.inodeTableStart(cluster(h), off, sb.inodeSize())) {
                        map.place(g, scan.hostOffset(h), allBitmap(), Placement.FS_SIGNATURE);
                        role[h] = ROLE_DATA;
                        found++;
                        break;
                    }
                }
            }
        }
        java.util.Map<Long, Long> dirs = GuestFs.directoryFirstBlocks(view, fsStart);
        if (!dirs.isEmpty()) {
            java.util.Map<Long, Long> wanted = new java.util.HashMap<>(); // guest byte -> inode
            for (var e : dirs.entrySet()) {
                long at = fsStart + e.getValue() * sb.blockSize();
                if (!map.placed(at >>> geo.clusterBits())) wanted.put(at, e.getKey());
            }
            for (int h = 1; h < scan.clusters() && !wanted.isEmpty(); h++) {
                if (!candidate(h)) continue;
                ByteBuffer c = null;
                for (var it = wanted.entrySet().iterator(); it.hasNext(); ) {
                    var w = it.next();
                    long g = w.getKey() >>> geo.clusterBits();
                    if (map.placed(g)) { it.remove(); continue; }
                    if (c == null) c = cluster(h);
                    if (GuestFs.directoryStart(c, (int) (w.getKey() & (geo.clusterSize() - 1)), w.getValue())) {
                        map.place(g, scan.hostOffset(h), allBitmap(), Placement.FS_SIGNATURE);
                        role[h] = ROLE_DATA;
                        found++;
                        it.remove();
                        break;
                    }
                }
            }
        }
        if (found > 0) structures.add(new RescueReport.Structure("ext2/3/4 inode table and directories", -1, "found",
                found + " host clusters placed by content naming their own position (root inode, directory \".\" entries)"));
    }

    private long allBitmap() { return geo.extendedL2() ? 0xffffffffL : 0; }

    /**
     * Allocation order: matches unplaced host clusters (host order) with the guest clusters the
     * file system says hold data and no evidence placed yet (guest order), segment by segment
     * between placed clusters; repeats while reading the newly placed clusters reveals more of
     * the file system. Where a segment's counts disagree but its host gap equals its guest gap,
     * places linearly.
     */
    private void placeByAllocationOrder(List<Long> fsStarts) throws IOException {
        int before = -1;
        for (int round = 0; round < 32; round++) {
            BitSet expected = new BitSet();
            long limit = Math.min(Integer.MAX_VALUE - 8L, Math.max(map.capacity(), 1L << 28 >>> 0));
            for (long start : fsStarts) GuestFs.expectedNonZero(view, start, geo.clusterBits(), limit, expected);
            if (expected.cardinality() == before) break;
            before = expected.cardinality();
            // undo the previous round's order placements
            for (long g = 0; g < map.extent(); g++) {
                Placement p = map.method(g);
                if (p == Placement.ALLOCATION_ORDER || p == Placement.EQUAL_GAP) {
                    role[hostCluster(map.raw(g))] = ROLE_NONE;
                    map.clear(g);
                }
            }
            matchSegments(expected);
        }
    }

    private void matchSegments(BitSet expected) {
        // Anchors: placed clusters with a known host cluster among the candidates' neighbours, in host order.
        int hosts = scan.clusters();
        List<long[]> anchors = new ArrayList<>(); // {host cluster, guest cluster}
        for (long g = 0; g < map.extent(); g++) {
            Placement p = map.method(g);
            if (p == null) continue;
            long raw = map.raw(g);
            if (p == Placement.FS_SIGNATURE || p == Placement.ACTIVE_TABLES || p == Placement.SNAPSHOT_TABLES || p == Placement.ORPHAN_L2) {
                if (p != Placement.FS_SIGNATURE) {
                    if (!(L2Entry.decode(raw, map.bitmap(g), geo, false) instanceof L2Entry.Normal n)) continue;
                    raw = n.hostOffset();
                }
                anchors.add(new long[] {hostCluster(raw), g});
            }
        }
        anchors.sort((a, b) -> Long.compare(a[0], b[0]));
        anchors.add(new long[] {hosts, Long.MAX_VALUE});
        long prevHost = -1, prevGuest = -1;
        for (long[] a : anchors) {
            long hEnd = a[0], gEnd = a[1];
            if (prevGuest >= 0 && gEnd > prevGuest) {
                List<Integer> hs = new ArrayList<>();
                for (long h = prevHost + 1; h < hEnd; h++) if (candidate((int) h)) hs.add((int) h);
                List<Long> gs = new ArrayList<>();
                for (int g = expected.nextSetBit((int) Math.min(Integer.MAX_VALUE - 1, prevGuest + 1)); g >= 0 && g < gEnd; g = expected.nextSetBit(g + 1)) {
                    if (!map.placed(g)) gs.add((long) g);
                    if (g == Integer.MAX_VALUE - 1) break;
                }
                if (!hs.isEmpty()) {
                    boolean equalGap = gEnd != Long.MAX_VALUE && hEnd - prevHost == gEnd - prevGuest;
                    if (!gs.isEmpty() && (hs.size() == gs.size() || !equalGap)) {
                        int n = Math.min(hs.size(), gs.size());
                        for (int k = 0; k < n; k++) placeOrder(hs.get(k), gs.get(k), Placement.ALLOCATION_ORDER);
                    } else if (equalGap) {
                        for (int h : hs) {
                            long g = prevGuest + (h - prevHost);
                            if (!map.placed(g)) placeOrder(h, g, Placement.EQUAL_GAP);
                        }
                    }
                }
            }
            prevHost = a[0];
            prevGuest = a[1];
        }
    }

    private void placeOrder(int host, long guest, Placement how) {
        map.place(guest, scan.hostOffset(host), allBitmap(), how);
        role[host] = ROLE_DATA;
    }

    // ---- the output ------------------------------------------------------------------------------

    private String sizeEvidence;

    private long virtualSize(List<Long> fsStarts) {
        if (header != null && header.size() > 0) { sizeEvidence = "header"; return header.size(); }
        long size = map.extent() << geo.clusterBits();
        sizeEvidence = "inferred: the highest placed guest cluster";
        for (long start : fsStarts) {
            byte[] sb = view.read(start + 1024, 1024);
            GuestFs.Superblock s = sb == null ? null : GuestFs.Superblock.parse(GuestFs.le(sb), 0);
            if (s != null && start + s.blocksCount() * s.blockSize() > size) {
                size = start + s.blocksCount() * s.blockSize();
                sizeEvidence = "inferred: the guest file system's own size";
            }
        }
        return size;
    }

    private ClusterDecompressor decompressor;

    /** The rescued content of guest cluster {@code g} (placed), one cluster long. */
    private byte[] guestCluster(long g) throws IOException {
        byte[] out = new byte[geo.clusterSize()];
        long raw = map.raw(g);
        Placement how = map.method(g);
        if (how == Placement.FS_SIGNATURE || how == Placement.EQUAL_GAP || how == Placement.ALLOCATION_ORDER) {
            HostScan.readCluster(in, raw, fileSize, ByteBuffer.wrap(out));
            return out;
        }
        switch (L2Entry.decode(raw, map.bitmap(g), geo, false)) {
            case L2Entry.Unallocated u -> { }
            case L2Entry.Zero z -> { }
            case L2Entry.Normal n -> {
                HostScan.readCluster(in, n.hostOffset(), fileSize, ByteBuffer.wrap(out));
                if (geo.extendedL2()) {
                    int sub = geo.clusterSize() / 32;
                    for (int s = 0; s < 32; s++) {
                        if (n.subcluster(s) != dev.qcow2.format.SubclusterType.NORMAL) java.util.Arrays.fill(out, s * sub, (s + 1) * sub, (byte) 0);
                    }
                }
            }
            case L2Entry.Compressed c -> {
                long end = Math.min(c.lastHostByte() + 1, fileSize);
                int len = (int) (end - c.firstHostByte());
                if (len <= 0) return out;
                byte[] packed = in.read(c.firstHostByte(), len);
                if (decompressor == null) decompressor = ClusterDecompressor.of(CompressionType.of(header == null ? 0 : header.compressionType()));
                if (!decompressor.decompress(packed, len, out)) {
                    ClusterDecompressor other = ClusterDecompressor.of(header == null || header.compressionType() == 0 ? CompressionType.ZSTD : CompressionType.ZLIB);
                    if (!other.decompress(packed, len, out)) throw new IOException("compressed cluster at 0x" + Long.toHexString(c.firstHostByte()) + " does not decompress");
                }
            }
        }
        return out;
    }

    private Map<Placement, Long> write(Path out, long virtualSize) throws IOException {
        String opts = "size=" + virtualSize + ",cluster_size=" + geo.clusterSize() + (geo.extendedL2() ? ",extended_l2=on" : "");
        ImageCreator.create(out, CreateOptions.parse(opts));
        Map<Placement, Long> placed = new EnumMap<>(Placement.class);
        long last = (virtualSize + geo.clusterSize() - 1) >>> geo.clusterBits();
        try (Qcow2Writer w = Qcow2Writer.open(out, WriteOptions.defaults())) {
            for (long g = 0; g < Math.min(map.extent(), last); g++) {
                Placement how = map.method(g);
                if (how == null) continue;
                byte[] data;
                try {
                    data = guestCluster(g);
                } catch (IOException e) {
                    structures.add(new RescueReport.Structure("guest cluster " + g, -1, "lost", oneLine(e)));
                    continue;
                }
                placed.merge(how, 1L, Long::sum);
                long at = g << geo.clusterBits();
                int len = (int) Math.min(data.length, virtualSize - at);
                if (!HostScan.allZero(ByteBuffer.wrap(data))) w.write(new GuestOffset(at), data, 0, len);
            }
        }
        return placed;
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
    }
}
