package dev.qcow2.notebook.charts;

import dev.qcow2.units.HostOffset;
import dev.qcow2.check.ImageChecker;
import dev.qcow2.check.ReferenceCounts;
import dev.qcow2.dsl.OnDiskRefcounts;
import dev.qcow2.format.HeaderExtension;
import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.mapping.ClusterMapper;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.util.EnumMap;
import java.util.Map;

/**
 * Every host cluster of an image file classified by what it holds. Metadata is found by the same
 * walk as qemu-img check's reference count (header; L1 and L2 tables and data of the active
 * state and of every snapshot; snapshot table; refcount table and blocks; LUKS header and bitmap
 * directory), and compared with the refcounts recorded in the image:
 * <ul>
 *   <li>a cluster with a nonzero refcount that nothing references is LEAKED (qemu-img check's
 *       "Leaked cluster");</li>
 *   <li>a referenced cluster the walk does not name (bitmap tables and bitmap data) is OTHER_METADATA;</li>
 *   <li>a cluster at or past the end of the file that is referenced or has a refcount is PAST_EOF;</li>
 *   <li>everything else in the file with neither is FREE.</li>
 * </ul>
 * A cluster that is two things (e.g. shared by an L2 table and data, a corruption) keeps the first
 * one the walk finds. Also kept: each cluster's refcount and reference count, so mismatches
 * (refcount != references) can be charted.
 */
public final class HostClusters {
    private final byte[] kinds;
    private final long[] refcounts;     // -1: unreadable (unaligned refblock)
    private final long[] references;
    private final long fileClusters;
    private final int clusterSize;

    private HostClusters(byte[] kinds, long[] refcounts, long[] references, long fileClusters, int clusterSize) {
        this.kinds = kinds;
        this.refcounts = refcounts;
        this.references = references;
        this.fileClusters = fileClusters;
        this.clusterSize = clusterSize;
    }

    /** Classifies {@code img}'s file (open it with OpenOptions.forChecking(), as qemu-img check does). */
    public static HostClusters of(Qcow2Image img) throws IOException {
        ReferenceCounts refs = ImageChecker.scan(img, f -> { }).references();
        OnDiskRefcounts onDisk = new OnDiskRefcounts(img);
        long fileClusters = onDisk.clustersInFile();
        long n = Math.max(fileClusters, refs == null ? 0 : refs.size());
        if (n > Integer.MAX_VALUE - 8) throw new IOException(img.describe() + ": too many host clusters to chart (" + n + ")");
        int count = (int) n;
        byte[] kinds = new byte[count];
        long[] refcounts = new long[count];
        long[] references = new long[count];
        var marker = new Marker(kinds, img.geometry());
        walk(img, marker);
        for (int c = 0; c < count; c++) {
            Long rc = onDisk.get(c);
            refcounts[c] = rc == null ? -1 : rc;
            references[c] = refs == null ? 0 : refs.get(c);
            boolean used = refcounts[c] != 0 || references[c] != 0;
            if (c >= fileClusters) kinds[c] = (byte) (used ? ClusterKind.PAST_EOF : ClusterKind.FREE).ordinal();
            else if (marker.unmarked(c) && references[c] != 0) kinds[c] = (byte) ClusterKind.OTHER_METADATA.ordinal();
            else if (marker.unmarked(c) && refcounts[c] > 0) kinds[c] = (byte) ClusterKind.LEAKED.ordinal();
            else if (marker.unmarked(c)) kinds[c] = (byte) ClusterKind.FREE.ordinal();
        }
        return new HostClusters(kinds, refcounts, references, fileClusters, img.geometry().clusterSize());
    }

    private static void walk(Qcow2Image img, Marker m) throws IOException {
        Qcow2Header h = img.header();
        m.mark(0, 1, ClusterKind.HEADER);
        tree(img, img.mapper().l1Table(), h.l1TableOffset(), m);
        long snapshotBytes = 0;
        for (SnapshotEntry s : img.snapshots()) {
            tree(img, ClusterMapper.readTable(img.storage(), s.l1TableOffset(), (int) s.l1Size()), s.l1TableOffset(), m);
            snapshotBytes += s.length() + 7 & ~7L;
        }
        if (h.nbSnapshots() > 0) m.mark(h.snapshotsOffset(), snapshotBytes, ClusterKind.SNAPSHOT_TABLE);
        m.mark(h.refcountTableOffset(), h.refcountTableClusters() * (long) h.clusterSize(), ClusterKind.REFCOUNT_TABLE);
        OnDiskRefcounts onDisk = new OnDiskRefcounts(img);
        for (long raw : onDisk.reftable()) {
            if (raw != 0) m.mark(raw & ~511L, h.clusterSize(), ClusterKind.REFCOUNT_BLOCK);
        }
        h.extension(HeaderExtension.CryptoHeader.class)
                .ifPresent(c -> m.mark(c.headerOffset(), c.headerLength(), ClusterKind.OTHER_METADATA));
        h.extension(HeaderExtension.Bitmaps.class)
                .ifPresent(b -> m.mark(b.directoryOffset(), b.directorySize(), ClusterKind.OTHER_METADATA));
    }

    private static void tree(Qcow2Image img, long[] l1, long l1Offset, Marker m) throws IOException {
        ClusterGeometry geo = img.geometry();
        boolean external = img.header().hasExternalDataFile();
        m.mark(l1Offset, 8L * l1.length, ClusterKind.L1_TABLE);
        for (long l1e : l1) {
            long l2 = l1e & L1Entry.OFFSET_MASK;
            if (l2 == 0) continue;
            m.mark(l2, geo.clusterSize(), ClusterKind.L2_TABLE);
            long[] table = img.mapper().l2Table(new HostOffset(l2));
            for (int j = 0; j < geo.l2Entries(); j++) {
                long raw = geo.extendedL2() ? table[2 * j] : table[j];
                if (raw == 0) continue;
                L2Entry e = L2Entry.decode(raw, geo.extendedL2() ? table[2 * j + 1] : 0, geo, external);
                if (e instanceof L2Entry.Normal n && !external) m.mark(n.hostOffset(), geo.clusterSize(), ClusterKind.DATA);
                else if (e instanceof L2Entry.Zero z && z.preallocated() && !external) m.mark(z.hostOffset(), geo.clusterSize(), ClusterKind.DATA);
                else if (e instanceof L2Entry.Compressed c) {
                    m.mark(c.firstHostByte(), c.lastHostByte() - c.firstHostByte() + 1, ClusterKind.COMPRESSED);
                }
            }
        }
    }

    /** Marks the clusters a byte range covers with a kind, unless already marked. */
    private static final class Marker {
        private final byte[] kinds;
        private final boolean[] marked;
        private final int bits;

        Marker(byte[] kinds, ClusterGeometry geo) {
            this.kinds = kinds;
            this.marked = new boolean[kinds.length];
            this.bits = geo.clusterBits();
        }

        void mark(long offset, long length, ClusterKind kind) {
            if (length <= 0 || offset < 0) return;
            long first = offset >>> bits, last = (offset + length - 1) >>> bits;
            for (long c = first; c <= last && c < kinds.length; c++) {
                if (!marked[(int) c]) {
                    marked[(int) c] = true;
                    kinds[(int) c] = (byte) kind.ordinal();
                }
            }
        }

        boolean unmarked(int c) { return !marked[c]; }
    }

    public int size() { return kinds.length; }

    public ClusterKind kind(long cluster) { return ClusterKind.values()[kinds[(int) cluster]]; }

    /** The refcount recorded in the image; -1 when unreadable. */
    public long refcount(long cluster) { return refcounts[(int) cluster]; }

    /** How often the metadata walk found the cluster referenced. */
    public long references(long cluster) { return references[(int) cluster]; }

    public long fileClusters() { return fileClusters; }

    public int clusterSize() { return clusterSize; }

    /** How many clusters of each kind (every kind present, zero counts included). */
    public Map<ClusterKind, Long> counts() {
        Map<ClusterKind, Long> out = new EnumMap<>(ClusterKind.class);
        for (ClusterKind k : ClusterKind.values()) out.put(k, 0L);
        for (byte b : kinds) out.merge(ClusterKind.values()[b], 1L, Long::sum);
        return out;
    }

    byte[] ordinals() { return kinds; }
}
