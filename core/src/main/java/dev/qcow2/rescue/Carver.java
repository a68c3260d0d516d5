package dev.qcow2.rescue;

import dev.qcow2.ImageLimitException;
import dev.qcow2.Qcow2Exception;
import dev.qcow2.codec.ClusterDecompressor;
import dev.qcow2.format.CompressionType;
import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.format.SnapshotTable;
import dev.qcow2.refcount.RefcountReader;
import dev.qcow2.refcount.Reftable;
import dev.qcow2.storage.FileStorage;
import dev.qcow2.storage.Storage;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Carving: every host cluster of an image that no live table references (leaked, free but not
 * zero, or without a refcount), with its {@link Provenance}. Read only, always: the file is opened
 * through a read-only channel without a lock, refcounts are read as they are on disk (a dirty
 * image is not repaired: reopening it in QEMU would rebuild the refcounts and free exactly this
 * evidence), and a damaged part of the metadata becomes a warning, not a failure.
 *
 * <p>Steps: what is referenced comes from the one metadata walk ({@link LiveClusters}); each
 * other cluster's shape from {@link HostScan#classify}; then, most specific first: old snapshot
 * tables (which name the L1 tables of deleted snapshots), old refcount tables and blocks, old L1
 * tables and the L2 tables they reach (guest position certain), old L2 tables placed by the data
 * clusters they share with the live mapping (inferred), the data and compressed streams old L2
 * tables map, compressed streams found by decoding, zeros, unknown data.
 *
 * <p>Memory: a few bytes per host cluster ({@link LiveClusters}), plus per unreferenced cluster.
 */
public final class Carver {
    private final Storage in;
    private final String res;
    private final long fileSize;
    private final Qcow2Header header;
    private final ClusterGeometry geo;
    private final int cs;
    private final int clusters;
    private final boolean dataFile;
    private final List<String> warnings = new ArrayList<>();
    private LiveClusters live;
    /** Per host cluster: its shape ({@link HostScan} kinds), -1 when referenced (not read). */
    private byte[] shape;
    private CarveStatus[] status;
    private final Map<Integer, Provenance> found = new HashMap<>();
    /** Unreferenced L2 tables: their guest position, and the snapshot that reached them, from an old L1. */
    private final Map<Integer, long[]> l2Position = new HashMap<>();
    private final Map<Integer, String> l2Snapshot = new HashMap<>();
    /** Old L1 tables named by old snapshot tables: host cluster -> snapshot name. */
    private final Map<Integer, String> l1Snapshot = new HashMap<>();
    private ClusterDecompressor decompressor;

    private Carver(Storage in, Qcow2Header header) throws IOException {
        this.in = in;
        this.res = in.describe();
        this.fileSize = in.size();
        this.header = header;
        this.geo = header.geometry();
        this.cs = geo.clusterSize();
        this.dataFile = header.hasExternalDataFile();
        long n = geo.clustersCovering(fileSize);
        if (n > Integer.MAX_VALUE - 8) throw new ImageLimitException(res, "too many clusters to carve at cluster size " + cs);
        this.clusters = (int) n;
    }

    /** The unreferenced clusters of {@code image} and their provenance; writes nothing. */
    public static CarveReport analyse(Path image) throws IOException {
        try (FileStorage in = FileStorage.openReadOnly(image)) {
            return analyse(in);
        }
    }

    /** As {@link #analyse(Path)}, then each run copied into {@code outDir} (new or empty) with a manifest ({@link CarveOutput}). */
    public static CarveReport carve(Path image, Path outDir) throws IOException {
        try (FileStorage in = FileStorage.openReadOnly(image)) {
            CarveOutput out = CarveOutput.prepare(outDir);   // after the image opened: a bad FILE leaves no OUTDIR behind
            return out.write(in, analyse(in));
        }
    }

    static CarveReport analyse(Storage in) throws IOException {
        Qcow2Header h;
        try {
            h = Qcow2Header.read(in);
        } catch (Qcow2Exception e) {
            throw new Qcow2Exception(in.describe(), "cannot carve without a qcow2 header (" + Evidence.oneLine(e)
                    + "); qcow2 rescue recovers images whose header is lost");
        }
        return new Carver(in, h).run();
    }

    private CarveReport run() throws IOException {
        live = LiveClusters.walk(in, header, clusters, warnings);
        readStatuses();
        findSnapshotTables();
        classifyTables();
        List<CarvedRun> runs = describe();
        long freeZero = 0;
        for (int c = 0; c < clusters; c++) if (shape[c] == HostScan.ZERO && status[c] != CarveStatus.LEAKED) freeZero++;
        return new CarveReport(res, cs, fileSize, live.referenced().cardinality(), freeZero, List.copyOf(runs), List.copyOf(warnings), null);
    }

    // ---- refcounts and shapes ------------------------------------------------------------------

    private void readStatuses() throws IOException {
        RefcountReader refcounts = null;
        long covered = 0;
        try {
            Reftable table = Reftable.read(in, header, Reftable.Policy.QEMU);
            refcounts = new RefcountReader(in, table, RefcountReader.Cache.SCAN);
            covered = table.coveredClusters();
        } catch (IOException | RuntimeException e) {
            warnings.add("refcount table unreadable (" + Evidence.oneLine(e) + "): every unreferenced cluster counts as uncovered");
        }
        shape = new byte[clusters];
        status = new CarveStatus[clusters];
        ByteBuffer buf = ByteBuffer.allocate(cs);
        BitSet referenced = live.referenced();
        for (int c = 0; c < clusters; c++) {
            if (referenced.get(c)) { shape[c] = -1; continue; }
            HostScan.readCluster(in, (long) c * cs, fileSize, buf);
            shape[c] = HostScan.classify(buf, geo, fileSize, c == 0);
            long count;
            try {
                count = refcounts == null || c >= covered ? -1 : refcounts.getOr(c, -1);
            } catch (IOException | RuntimeException e) {
                count = -1;   // a refcount block outside the file or unreadable: no refcount
            }
            status[c] = count < 0 ? CarveStatus.UNCOVERED : count > 0 ? CarveStatus.LEAKED : CarveStatus.FREE;
        }
    }

    private boolean unreferenced(int c) { return c >= 0 && c < clusters && shape[c] >= 0; }

    private ByteBuffer cluster(int c) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(cs);
        HostScan.readCluster(in, (long) c * cs, fileSize, b);
        return b;
    }

    private int hostCluster(long offset) { return offset < 0 || offset >= fileSize ? -1 : (int) (offset / cs); }

    // ---- old snapshot tables ------------------------------------------------------------------

    /**
     * Snapshot tables QEMU freed (it writes a new table on every snapshot create and delete):
     * cluster-aligned runs of snapshot entries (qcow2.rst "Snapshots") whose L1 offsets are
     * aligned inside the file and whose ids and names are text. They name the L1 tables of
     * snapshots that are gone.
     */
    private void findSnapshotTables() throws IOException {
        for (int c = 1; c < clusters; c++) {
            if (!unreferenced(c) || shape[c] != HostScan.DATA) continue;
            List<String> names = new ArrayList<>();
            long at = (long) c * cs;
            while (at + SnapshotEntry.HEADER_SIZE <= fileSize && names.size() < 1024) {
                SnapshotEntry e = plausibleSnapshot(at);
                if (e == null) break;
                names.add("'" + e.name() + "' (id " + e.id() + ")");
                int l1 = hostCluster(e.l1TableOffset());
                if (unreferenced(l1)) l1Snapshot.put(l1, e.name());
                at = e.entryOffset() + ((e.length() + 7) & ~7L);
            }
            if (!names.isEmpty()) found.put(c, new Provenance.OldSnapshotTable(List.copyOf(names)));
        }
    }

    private SnapshotEntry plausibleSnapshot(long at) throws IOException {
        ByteBuffer h = ByteBuffer.wrap(in.read(at, SnapshotEntry.HEADER_SIZE));
        long l1 = h.getLong(0), l1Size = Integer.toUnsignedLong(h.getInt(8));
        int idSize = Short.toUnsignedInt(h.getShort(12)), nameSize = Short.toUnsignedInt(h.getShort(14));
        long extra = Integer.toUnsignedLong(h.getInt(36));
        if (l1 == 0 || !geo.isClusterAligned(l1) || l1 >= fileSize || l1Size == 0 || l1Size * 8 > Qcow2Header.MAX_L1_BYTES) return null;
        if (idSize == 0 || idSize > 64 || nameSize > 1024 || extra > SnapshotEntry.MAX_EXTRA_DATA || extra % 8 != 0) return null;
        if (at + SnapshotEntry.HEADER_SIZE + extra + idSize + nameSize > fileSize) return null;
        SnapshotEntry e = SnapshotTable.decodeEntry(in, header, at).entry();
        if (!text(e.id()) || !text(e.name())) return null;
        return e;
    }

    private static boolean text(String s) {
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) < 0x20 || s.charAt(i) == 0xfffd) return false;
        return true;
    }

    // ---- tables ------------------------------------------------------------------------------------

    /** Refcount tables, L1 tables (and the guest span each of their entries gives an L2 table), then L2 tables. */
    private void classifyTables() throws IOException {
        List<Integer> tables = new ArrayList<>();
        for (int c = 1; c < clusters; c++) {
            if (!unreferenced(c) || found.containsKey(c)) continue;
            if (shape[c] == HostScan.REFBLOCK) {
                found.put(c, new Provenance.OldRefcountBlock(nonZeroCounts(cluster(c))));
            } else if (shape[c] == HostScan.TABLE) {
                tables.add(c);
            }
        }
        List<Integer> l2s = new ArrayList<>();
        for (int c : tables) {
            ByteBuffer b = cluster(c);
            int blocks = pointsAt(b, this::refblockShaped);
            if (blocks > 0) { found.put(c, new Provenance.OldRefcountTable(blocks)); continue; }
            // an L1 entry names an L2 table; an L2's data entries almost never all point at table-shaped clusters
            String snapshot = l1Snapshot.get(c);
            int l2Tables = pointsAt(b, t -> live.l2Table(t) || unreferenced(t) && shape[t] == HostScan.TABLE);
            if (snapshot != null || l2Tables > 0) {
                found.put(c, new Provenance.OldL1Table(snapshot, Math.max(l2Tables, 0)));
                for (int i = 0; i < geo.clusterSize() / 8; i++) {
                    long raw = b.getLong(i * 8);
                    int t = hostCluster(raw & L1Entry.OFFSET_MASK);
                    if (raw == 0 || !unreferenced(t)) continue;
                    l2Position.putIfAbsent(t, new long[] {(long) i * geo.bytesPerL2Table(), c});
                    if (snapshot != null) l2Snapshot.putIfAbsent(t, snapshot);
                }
            } else {
                l2s.add(c);
            }
        }
        for (int c : l2s) found.put(c, oldL2(c));
    }

    /** The number of set entries when every one points (masked as a table offset) at a cluster {@code target} accepts, else -1. */
    private int pointsAt(ByteBuffer b, java.util.function.IntPredicate target) {
        int set = 0;
        for (int i = 0; i + 8 <= b.capacity(); i += 8) {
            long raw = b.getLong(i);
            if (raw == 0) continue;
            if ((raw & ~L1Entry.OFFSET_MASK & ~L1Entry.COPIED) != 0) return -1;
            int t = hostCluster(raw & L1Entry.OFFSET_MASK);
            if (t < 0 || !geo.isClusterAligned(raw & L1Entry.OFFSET_MASK) || !target.test(t)) return -1;
            set++;
        }
        return set;
    }

    private boolean refblockShaped(int c) {
        return live.refcountBlock(c) || unreferenced(c) && shape[c] == HostScan.REFBLOCK;
    }

    private static int nonZeroCounts(ByteBuffer b) {
        int n = 0;
        for (int i = 0; i + 2 <= b.capacity(); i += 2) if (b.getShort(i) != 0) n++;
        return n;
    }

    /**
     * An old L2 table: its guest range from an old L1 that reaches it (certain), else from the
     * live mapping of the data clusters it shares (a COW copy maps the same data at the same
     * guest offsets until the guest rewrites them: inferred, by majority); then every data
     * cluster and compressed stream it maps that is itself unreferenced gets its provenance.
     */
    private Provenance oldL2(int c) throws IOException {
        ByteBuffer b = cluster(c);
        int step = geo.l2EntrySize();
        long[] pos = l2Position.get(c);
        String how;
        long guest;
        if (pos != null) {
            guest = pos[0];
            how = "entry " + (guest / geo.bytesPerL2Table()) + " of the old L1 table at 0x" + Long.toHexString(pos[1] * cs);
        } else {
            Map<Long, Integer> votes = new HashMap<>();
            for (int j = 0; j < geo.l2Entries(); j++) {
                if (!(L2Entry.decode(b.getLong(j * step), geo.extendedL2() ? b.getLong(j * step + 8) : 0, geo, false) instanceof L2Entry.Normal n)) continue;
                int h = hostCluster(n.hostOffset());
                long g = h < 0 ? -1 : live.guestOf(h);
                if (g < 0 || g < (long) j * cs || (g - (long) j * cs) % geo.bytesPerL2Table() != 0) continue;
                votes.merge(g - (long) j * cs, 1, Integer::sum);
            }
            var best = votes.entrySet().stream().max(Map.Entry.comparingByValue()).orElse(null);
            guest = best == null ? -1 : best.getKey();
            how = best == null ? "no old L1 names it and it shares no data cluster with the live mapping"
                    : "inferred: " + best.getValue() + " of its data clusters are mapped there by a live table";
        }
        String snapshot = l2Snapshot.get(c);
        int normal = 0, compressed = 0, zero = 0;
        for (int j = 0; j < geo.l2Entries(); j++) {
            long raw = b.getLong(j * step), bitmap = geo.extendedL2() ? b.getLong(j * step + 8) : 0;
            long g = guest < 0 ? -1 : guest + (long) j * cs;
            switch (L2Entry.decode(raw, bitmap, geo, false)) {
                case L2Entry.Unallocated u -> { }
                case L2Entry.Zero z -> zero++;
                case L2Entry.Normal n -> {
                    normal++;
                    int h = dataFile ? -1 : hostCluster(n.hostOffset());   // with a data file, data is not in this file
                    if (unreferenced(h) && shape[h] == HostScan.DATA && !found.containsKey(h)) {
                        found.put(h, new Provenance.FreedData(g, (long) c * cs, snapshot, looksLike(cluster(h))));
                    }
                }
                case L2Entry.Compressed z -> {
                    compressed++;
                    int h = hostCluster(z.firstHostByte());
                    if (unreferenced(h) && !found.containsKey(h)) {
                        String to = decompress(z.firstHostByte(), z.lastHostByte() - z.firstHostByte() + 1);
                        if (to != null) found.put(h, new Provenance.CompressedStream(z.firstHostByte(), g, to, 1));
                    }
                }
            }
        }
        return new Provenance.OldL2Table(guest, geo.bytesPerL2Table(), how, normal, compressed, zero, snapshot);
    }

    // ---- content ---------------------------------------------------------------------------------

    /** What one cluster of {@code len} compressed bytes at {@code at} decompresses to, or null when it does not. */
    private String decompress(long at, long len) throws IOException {
        Decoded d = decode(at, len);
        return d == null ? null : d.to();
    }

    /** A decoded compressed cluster: what it holds, and its stream's length (0: unknown). */
    private record Decoded(String to, int length) { }

    private Decoded decode(long at, long len) throws IOException {
        if (len <= 0 || len > 2L * cs + 512 || at + 1 > fileSize) return null;
        int n = (int) Math.min(len, fileSize - at);
        return decode(in.read(at, n), n);
    }

    /** Decodes the stream at the start of {@code packed} ({@code n} bytes). */
    private Decoded decode(byte[] packed, int n) {
        byte[] out = new byte[cs];
        if (decompressor == null) decompressor = ClusterDecompressor.of(CompressionType.of(header.compressionType()));
        int length;
        try {
            length = decompressor.streamLength(packed, n, out);
        } catch (RuntimeException e) {
            return null;
        }
        return length < 0 ? null : new Decoded(looksLike(ByteBuffer.wrap(out)), length);
    }

    /** Stream starts learnt by following a chain of packed streams into a later cluster. */
    private final Map<Integer, java.util.TreeSet<Long>> chainedStarts = new HashMap<>();

    /**
     * Compressed streams in a cluster no table maps. Candidates: the starts a chain from an
     * earlier cluster reached, and every 512-byte sector (QEMU starts a new run of compressed
     * clusters at a fresh cluster; a start inside another stream practically never decodes to a
     * whole cluster). From each stream that decodes, the chain is followed: QEMU packs the next
     * compressed cluster at the byte after (qcow2_alloc_bytes), so the starts that fall in later
     * clusters are remembered for them. The first stream says what; all are counted.
     */
    private Provenance.CompressedStream findStreams(int c) throws IOException {
        long base = (long) c * cs, end = Math.min(base + cs, fileSize);
        java.util.TreeSet<Long> starts = chainedStarts.getOrDefault(c, new java.util.TreeSet<>());
        for (long s = base; s < end; s += 512) starts.add(s);
        java.util.Set<Long> counted = new java.util.HashSet<>();
        long first = -1;
        String to = null;
        // the cluster and the two after it, read once: every candidate start decodes from memory
        byte[] window = in.read(base, (int) Math.min(3L * cs, fileSize - base));
        byte[] packed = new byte[2 * cs];
        for (Long s = starts.first(); s != null; s = starts.higher(s)) {
            long at = s;
            while (at < fileSize && !counted.contains(at)) {
                Decoded d;
                if (at - base + 2L * cs <= window.length || base + window.length == fileSize) {
                    int n = (int) Math.min(2L * cs, window.length - (at - base));
                    System.arraycopy(window, (int) (at - base), packed, 0, n);
                    d = n <= 0 ? null : decode(packed, n);
                } else {
                    d = decode(at, Math.min(2L * cs, fileSize - at));
                }
                if (d == null) break;
                if (at < end) {
                    counted.add(at);
                    if (first < 0 || at < first) { first = at; to = d.to(); }
                } else {
                    chainedStarts.computeIfAbsent((int) (at / cs), k -> new java.util.TreeSet<>()).add(at);
                    break;
                }
                if (d.length() <= 0) break;
                at += d.length();
            }
        }
        return first < 0 ? null : new Provenance.CompressedStream(first, -1, to, counted.size());
    }

    /** A phrase for what a cluster's bytes look like. */
    static String looksLike(ByteBuffer b) {
        if (HostScan.allZero(b)) return "zeros";
        if (b.getInt(0) == Qcow2Header.MAGIC) return "a qcow2 header";
        if (GuestFs.isMbr(b)) return "a partition table (MBR boot signature)";
        if (!GuestFs.superblocks(b).isEmpty()) return "an ext2/3/4 superblock";
        if (FatFs.parse(b, 0) != null) return "a FAT boot sector";
        byte one = b.get(0);
        boolean repeated = true;
        for (int i = 0; i < b.capacity() && repeated; i++) repeated = b.get(i) == one;
        if (repeated) return String.format("the byte 0x%02x repeated", one & 0xff);
        int[] freq = new int[256];
        int printable = 0, used = 0;
        for (int i = 0; i < b.capacity(); i++) {
            int v = b.get(i) & 0xff;
            freq[v]++;
            if (v != 0) { used = i + 1; if (v >= 0x20 && v < 0x7f || v == '\n' || v == '\r' || v == '\t') printable++; }
        }
        if (used > 0 && printable * 10 >= used * 9) return "text (" + used + " bytes)";
        double entropy = 0;
        for (int f : freq) if (f > 0) { double p = (double) f / b.capacity(); entropy -= p * Math.log(p) / Math.log(2); }
        return String.format("binary data (%.1f bits/byte%s)", entropy, entropy > 7.9 ? ": compressed, encrypted or random" : "");
    }

    // ---- runs ---------------------------------------------------------------------------------------

    private List<CarvedRun> describe() throws IOException {
        List<CarvedRun> runs = new ArrayList<>();
        int streamsTried = 0;
        long runStart = -1;
        CarveStatus runStatus = null;
        Provenance runWhat = null;
        int runLen = 0;
        for (int c = 0; c <= clusters; c++) {
            Provenance p = null;
            if (c < clusters && unreferenced(c)) {
                p = found.get(c);
                if (p == null) {
                    if (shape[c] == HostScan.ZERO) {
                        if (status[c] == CarveStatus.LEAKED) p = new Provenance.Zeros();
                    } else {
                        ByteBuffer b = cluster(c);
                        if (streamsTried++ < STREAM_SEARCH_LIMIT) p = findStreams(c);
                        if (p == null) p = new Provenance.UnknownData(looksLike(b));
                    }
                }
            }
            if (runWhat != null && p != null && status[c] == runStatus && continues(runWhat, p, runLen)) {
                runLen++;
                continue;
            }
            if (runWhat != null) runs.add(new CarvedRun(runStart, Math.min((long) runLen * cs, fileSize - runStart), runStatus, runWhat, null, null));
            runWhat = p;
            runStart = (long) c * cs;
            runStatus = p == null ? null : status[c];
            runLen = 1;
        }
        List<CarvedRun> hashed = new ArrayList<>(runs.size());
        for (CarvedRun r : runs) hashed.add(new CarvedRun(r.hostOffset(), r.length(), r.status(), r.provenance(), CarveOutput.sha256(in, r.hostOffset(), r.length(), cs), null));
        return hashed;
    }

    /** Clusters decoded one by one for a compressed stream, at most (unknown data past it is listed without the attempt). */
    static final int STREAM_SEARCH_LIMIT = 4096;

    /** Whether {@code next} extends a run of {@code len} clusters that started with {@code first}. */
    private boolean continues(Provenance first, Provenance next, int len) {
        return switch (first) {
            case Provenance.Zeros z -> next instanceof Provenance.Zeros;
            case Provenance.UnknownData u -> next instanceof Provenance.UnknownData v && u.looksLike().equals(v.looksLike());
            case Provenance.FreedData f -> next instanceof Provenance.FreedData g && f.guestOffset() >= 0
                    && g.guestOffset() == f.guestOffset() + (long) len * cs && g.l2Offset() == f.l2Offset();
            case Provenance.OldL2Table t -> false;
            case Provenance.OldL1Table t -> false;
            case Provenance.OldRefcountBlock t -> false;
            case Provenance.OldRefcountTable t -> false;
            case Provenance.OldSnapshotTable t -> false;
            case Provenance.CompressedStream s -> false;
        };
    }
}
