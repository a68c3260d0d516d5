package dev.qcow2.notebook.charts;

import dev.qcow2.image.Qcow2Image;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.view.RefcountViews;
import dev.qcow2.view.TableView;
import dev.qcow2.walk.DataKind;
import dev.qcow2.walk.MetadataVisitor;
import dev.qcow2.walk.MetadataWalk;
import dev.qcow2.walk.Owner;
import dev.qcow2.walk.Tree;

import java.io.IOException;
import java.util.EnumMap;
import java.util.Map;

/**
 * Every host cluster of an image file classified by what it holds. Refcounts and references
 * come from the core's {@link RefcountViews#refcounts} view (the rows of {@code dump refcounts}
 * and the DSL's {@code refcounts}). Metadata is found by the
 * {@link MetadataWalk}, the walk behind qemu-img check's reference count (header; L1 and L2
 * tables and data of the active state and of every snapshot; snapshot table; refcount table and
 * blocks; LUKS header; bitmap directory, tables and data), and compared with the refcounts
 * recorded in the image:
 * <ul>
 *   <li>a cluster with a nonzero refcount that nothing references is LEAKED (qemu-img check's
 *       "Leaked cluster");</li>
 *   <li>a referenced cluster the walk does not name is OTHER_METADATA (as are bitmaps and the LUKS header);</li>
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
        long fileClusters = img.geometry().clustersCovering(img.storage().size());
        // refcount beside references, per host cluster: the rows of `dump refcounts` / `refcounts`
        TableView rows = RefcountViews.refcounts(img);
        long n = fileClusters;
        if (!rows.rows().isEmpty()) n = Math.max(n, (Long) rows.rows().getLast().get("cluster") + 1);
        if (n > Integer.MAX_VALUE - 8) throw new IOException(img.describe() + ": too many host clusters to chart (" + n + ")");
        int count = (int) n;
        byte[] kinds = new byte[count];
        long[] refcounts = new long[count];
        long[] references = new long[count];
        for (Map<String, Object> row : rows.rows()) {
            int c = (int) (long) (Long) row.get("cluster");
            Long rc = (Long) row.get("refcount");
            refcounts[c] = rc == null ? -1 : rc;
            references[c] = (Long) row.get("references");
        }
        var marker = new Marker(kinds, img.geometry());
        walk(img, marker);
        for (int c = 0; c < count; c++) {
            boolean used = refcounts[c] != 0 || references[c] != 0;
            if (c >= fileClusters) kinds[c] = (byte) (used ? ClusterKind.PAST_EOF : ClusterKind.FREE).ordinal();
            else if (marker.unmarked(c) && references[c] != 0) kinds[c] = (byte) ClusterKind.OTHER_METADATA.ordinal();
            else if (marker.unmarked(c) && refcounts[c] > 0) kinds[c] = (byte) ClusterKind.LEAKED.ordinal();
            else if (marker.unmarked(c)) kinds[c] = (byte) ClusterKind.FREE.ordinal();
        }
        return new HostClusters(kinds, refcounts, references, fileClusters, img.geometry().clusterSize());
    }

    private static void walk(Qcow2Image img, Marker m) throws IOException {
        MetadataWalk.walk(img, new MetadataVisitor<RuntimeException>() {
            @Override public void range(Owner owner, long offset, long length) { m.mark(offset, length, kind(owner)); }

            @Override public void dataRange(Tree tree, long guestOffset, DataKind kind, long offset, long length) {
                m.mark(offset, length, kind == DataKind.COMPRESSED ? ClusterKind.COMPRESSED : ClusterKind.DATA);
            }
        });
    }

    private static ClusterKind kind(Owner owner) {
        return switch (owner) {
            case Owner.Header h -> ClusterKind.HEADER;
            case Owner.L1Table t -> ClusterKind.L1_TABLE;
            case Owner.L2Table t -> ClusterKind.L2_TABLE;
            case Owner.Data d -> ClusterKind.DATA;
            case Owner.PreallocatedZero z -> ClusterKind.DATA;
            case Owner.CompressedData c -> ClusterKind.COMPRESSED;
            case Owner.SnapshotTable t -> ClusterKind.SNAPSHOT_TABLE;
            case Owner.RefcountTable t -> ClusterKind.REFCOUNT_TABLE;
            case Owner.RefcountBlock b -> ClusterKind.REFCOUNT_BLOCK;
            case Owner.CryptoHeader c -> ClusterKind.OTHER_METADATA;
            case Owner.BitmapDirectory d -> ClusterKind.OTHER_METADATA;
            case Owner.BitmapTable t -> ClusterKind.OTHER_METADATA;
            case Owner.BitmapData d -> ClusterKind.OTHER_METADATA;
        };
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
