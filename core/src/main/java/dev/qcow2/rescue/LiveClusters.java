package dev.qcow2.rescue;

import dev.qcow2.format.L1Entry;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.format.SnapshotTable;
import dev.qcow2.refcount.ReftableDamage;
import dev.qcow2.refcount.Reftable;
import dev.qcow2.storage.Storage;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.walk.DataKind;
import dev.qcow2.walk.MetadataVisitor;
import dev.qcow2.walk.MetadataWalk;
import dev.qcow2.walk.Owner;
import dev.qcow2.walk.Tree;

import java.io.IOException;
import java.util.BitSet;
import java.util.List;

/**
 * The host clusters the image's live metadata references, from the one {@link MetadataWalk}
 * (QEMU's qcow2_check_refcounts order), walked defensively: an L1 entry or refcount table entry
 * naming an unaligned cluster or one past the end of the file is not followed, and a step that
 * fails (an L1 table outside the file, an unreadable snapshot table) becomes a warning, the walk
 * going on with the next step. Also kept, per host cluster: the guest offset a live tree maps
 * there (to place old L2 copies by the data they share), and which clusters are live L2 tables
 * and refcount blocks (to tell old L1 and refcount tables by what they point at).
 */
final class LiveClusters implements MetadataVisitor<RuntimeException> {
    private final ClusterGeometry geo;
    private final long fileSize;
    private final int clusters;
    private final BitSet referenced = new BitSet();
    private final BitSet l2Tables = new BitSet();
    private final BitSet refcountBlocks = new BitSet();
    /** Guest offset + 1 a live tree maps at each host cluster (0: none); the active tree's wins, being walked first. */
    private final long[] liveGuest;

    private final List<String> warnings;

    private LiveClusters(ClusterGeometry geo, long fileSize, int clusters, List<String> warnings) {
        this.warnings = warnings;
        this.geo = geo;
        this.fileSize = fileSize;
        this.clusters = clusters;
        this.liveGuest = new long[clusters];
    }

    static LiveClusters walk(Storage in, Qcow2Header header, int clusters, List<String> warnings) throws IOException {
        LiveClusters v = new LiveClusters(header.geometry(), in.size(), clusters, warnings);
        MetadataWalk w = new MetadataWalk(in, header);
        List<SnapshotEntry> snapshots = List.of();
        Reftable reftable = null;
        step(warnings, "header", () -> w.header(v));
        step(warnings, "the active L1 table", () -> w.activeTree(v));
        try {
            snapshots = SnapshotTable.read(in, header, true).entries();
        } catch (IOException | RuntimeException e) {
            warnings.add("snapshot table unreadable (" + Evidence.oneLine(e) + "): snapshots' clusters may be listed");
        }
        for (SnapshotEntry s : snapshots) {
            step(warnings, "snapshot '" + s.name() + "'", () -> w.tree(new Tree.Snapshot(s.id(), s.name()), s.l1TableOffset(), s.l1Size(), v));
        }
        List<SnapshotEntry> listed = snapshots;
        step(warnings, "the snapshot table", () -> w.snapshotTable(header.snapshotsOffset(), MetadataWalk.snapshotTableSize(header, listed), v));
        try {
            reftable = Reftable.read(in, header, Reftable.Policy.QEMU);
        } catch (IOException | RuntimeException e) {
            warnings.add("refcount table unreadable (" + Evidence.oneLine(e) + "): refcount blocks may be listed");
        }
        if (reftable != null) {
            Reftable t = reftable;
            step(warnings, "the refcount table", () -> w.refcountTable(t.size(), v));
            step(warnings, "the refcount blocks", () -> w.refcountBlocks(t, v));
        }
        step(warnings, "the LUKS header", () -> w.cryptoHeader(v));
        step(warnings, "the bitmaps", () -> w.bitmaps(v));
        return v;
    }

    private interface Step { void run() throws IOException; }

    private static void step(List<String> warnings, String what, Step s) {
        try {
            s.run();
        } catch (IOException | RuntimeException e) {
            warnings.add("could not walk " + what + " (" + Evidence.oneLine(e) + "): clusters it references may be listed");
        }
    }

    BitSet referenced() { return referenced; }

    boolean l2Table(int cluster) { return l2Tables.get(cluster); }

    boolean refcountBlock(int cluster) { return refcountBlocks.get(cluster); }

    /** The guest offset a live tree (the active one first, else a snapshot's) maps at host cluster {@code cluster}, or -1. */
    long guestOf(int cluster) { return liveGuest[cluster] - 1; }

    private void mark(long offset, long length) {
        if (length <= 0 || offset < 0 || offset >= fileSize) return;
        long end = Math.min(offset + length, fileSize);
        int from = (int) (offset >>> geo.clusterBits());
        int to = (int) Math.min(clusters, (end + geo.clusterSize() - 1) >>> geo.clusterBits());
        referenced.set(from, to);
    }

    @Override
    public void range(Owner owner, long offset, long length) {
        mark(offset, length);
        int c = (int) Math.min(Integer.MAX_VALUE, offset >>> geo.clusterBits());
        if (offset < 0 || c >= clusters) return;
        switch (owner) {
            case Owner.L2Table t -> l2Tables.set(c);
            case Owner.RefcountBlock b -> refcountBlocks.set(c);
            default -> { }
        }
    }

    @Override
    public void dataRange(Tree tree, long guestOffset, DataKind kind, long offset, long length) {
        mark(offset, length);
        if (kind == DataKind.NORMAL && offset >= 0 && offset < fileSize && liveGuest[(int) (offset >>> geo.clusterBits())] == 0) {
            liveGuest[(int) (offset >>> geo.clusterBits())] = guestOffset + 1;
        }
    }

    /** Follows only L2 offsets that are cluster-aligned and inside the file (the walk validates nothing itself). */
    @Override
    public boolean l1Entry(Tree tree, int index, long entryOffset, long raw) {
        long l2 = new L1Entry(raw).l2Offset();
        return l2 != 0 && geo.isClusterAligned(l2) && l2 + geo.clusterSize() <= fileSize;
    }

    /** A damaged refcount table entry is not followed: its block may then be listed, and the warning says why. */
    @Override
    public boolean reftableEntry(int index, long raw, ReftableDamage damage) {
        if (damage != null) warnings.add("refcount table entry " + index + " is damaged (" + damage.reason().name().toLowerCase().replace('_', ' ')
                + "): the block it names is not followed and may be listed");
        return damage == null;
    }

}
