package dev.qcow2.view;

import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.format.SubclusterType;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.mapping.ClusterMapper;
import dev.qcow2.mapping.L1Table;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.units.GuestOffset;
import dev.qcow2.walk.MetadataVisitor;
import dev.qcow2.walk.MetadataWalk;
import dev.qcow2.walk.Owner;
import dev.qcow2.walk.Tree;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The mapping tables of one state (the active one, or an internal snapshot's), entry by entry
 * (qcow2.rst "Cluster mapping", "Extended L2 Entries"): what {@code qcow2 dump l1|l2} and the
 * DSL's {@code walk l1|l2} show. L2 tables are visited by the {@link MetadataWalk} (the walk
 * behind check), entries decoded by {@link L2Entry#decode}; each row also gives the refcount
 * recorded for the host cluster it points at ({@link RecordedRefcounts}, null when unreadable).
 *
 * <p>Entry kinds are QEMU's cluster types (QCow2ClusterType in qcow2.h): {@code normal},
 * {@code compressed}, {@code zero-plain} (zero flag, no host cluster), {@code zero-alloc} (zero
 * flag with a preallocated host cluster) and {@code unallocated}. {@code zero} is true when every
 * subcluster reads as zeros from this entry (a zero entry, or an extended-L2 entry whose
 * subcluster bitmap makes every subcluster zero).
 */
public final class MappingViews {
    public static final String L1_TYPE = "l1-entry";
    public static final String L2_TYPE = "l2-entry";

    private MappingViews() { }

    /** Whose tables: the active state or a snapshot (its L1 table, validated as qemu-img does). */
    public record State(Qcow2Image image, SnapshotEntry snapshot) {
        public static State active(Qcow2Image image) { return new State(image, null); }

        /** "guest" or "guest@NAME": the space the guest offsets are in. */
        public String space() { return snapshot == null ? "guest" : "guest@" + snapshot.name(); }

        ClusterMapper mapper() throws IOException { return snapshot == null ? image.mapper() : image.mapper(snapshot); }

        Tree tree() { return snapshot == null ? Tree.ACTIVE : new Tree.Snapshot(snapshot.id(), snapshot.name()); }
    }

    /** Which L2 entries: all of one L1 entry's table or every table; empty entries or all of them. */
    public record L2Selection(Integer l1Index, boolean all) {
        /** Every non-empty entry (a nonzero descriptor or subcluster bitmap) of every allocated L2 table. */
        public static final L2Selection NON_EMPTY = new L2Selection(null, false);
    }

    /** Every L1 entry, allocated or not. */
    public static TableView l1(State state) throws IOException {
        Qcow2Image img = state.image();
        ClusterGeometry geo = img.geometry();
        RecordedRefcounts refs = RecordedRefcounts.open(img);
        long[] l1 = state.mapper().l1Table();
        TableView.Builder t = TableView.of(L1_TYPE, "L1 table of " + state.space(), List.of(Column.plain("l1_index"),
                Column.hex("guest_offset"), Column.hex("l2_offset"), Column.plain("copied"), Column.plain("refcount"),
                Column.hex("reserved_bits"), Column.hex("raw")));
        long perTable = geo.bytesPerL2Table();
        for (int i = 0; i < l1.length; i++) {
            L1Entry e = new L1Entry(l1[i]);
            Long l2 = e.allocated() ? e.l2Offset() : null;
            t.add((long) i, i * perTable, l2, e.copied(), l2 == null ? null : refs.at(l2),
                    e.reservedBits() == 0 ? null : e.reservedBits(), l1[i]);
        }
        return t.build();
    }

    /**
     * L2 entries through the metadata walk. Without {@code all}, an entry is listed when its
     * descriptor or bitmap is nonzero, wherever it is (a nonzero entry past the virtual size is
     * worth seeing); with {@code all}, every entry of an allocated table up to the virtual size.
     */
    public static TableView l2(State state, L2Selection which) throws IOException {
        Qcow2Image img = state.image();
        ClusterGeometry geo = img.geometry();
        RecordedRefcounts refs = RecordedRefcounts.open(img);
        ClusterMapper mapper = state.mapper();
        TableView.Builder t = TableView.of(L2_TYPE, "L2 entries of " + state.space(), l2Columns(geo));
        long perTable = geo.bytesPerL2Table();
        long size = img.size();
        MetadataWalk walk = new MetadataWalk(img.storage(), img.header());
        walk.tree(state.tree(), L1Table.fixed(mapper.l1TableOffset(), mapper.l1Table()), new MetadataVisitor<IOException>() {
            @Override public void range(Owner owner, long offset, long length) { }

            @Override
            public boolean l1Entry(Tree tree, int i, long entryOffset, long raw) {
                return (which.l1Index() == null || which.l1Index() == i) && new L1Entry(raw).allocated();
            }

            @Override
            public boolean l2Entry(Tree tree, long guest, int j, long entryOffset, long raw, long bitmap) throws IOException {
                boolean listed = which.all() ? guest < size : raw != 0 || bitmap != 0;
                if (listed) row(t, walk.decode(raw, bitmap), guest / perTable, j, guest, geo, refs);
                return false;
            }
        });
        return t.build();
    }

    /** The one entry mapping {@code guestOffset}, listed even when it is unallocated (also when its L1 entry is). */
    public static TableView l2At(State state, GuestOffset guestOffset) throws IOException {
        Qcow2Image img = state.image();
        ClusterGeometry geo = img.geometry();
        long at = guestOffset.value();
        if (at < 0 || at >= img.size()) {
            throw new IllegalArgumentException("guest offset 0x" + Long.toHexString(at) + " is past the end of the disk ("
                    + img.size() + " bytes)");
        }
        TableView.Builder t = TableView.of(L2_TYPE, "L2 entry of " + state.space() + " at 0x" + Long.toHexString(at), l2Columns(geo));
        L2Entry e = state.mapper().entry(guestOffset);
        if (e == null) e = new L2Entry.Unallocated(0, 0, geo.extendedL2());   // the L1 entry is empty
        long guest = at & -(long) geo.clusterSize();
        int j = (int) ((at >>> geo.clusterBits()) & (geo.l2Entries() - 1));
        row(t, e, at / geo.bytesPerL2Table(), j, guest, geo, RecordedRefcounts.open(img));
        return t.build();
    }

    private static List<Column> l2Columns(ClusterGeometry geo) {
        List<Column> cols = new ArrayList<>(List.of(Column.plain("l1_index"), Column.plain("l2_index"),
                Column.hex("guest_offset"), Column.hex("host_offset"), Column.plain("kind"), Column.plain("copied"),
                Column.plain("compressed"), Column.plain("zero")));
        if (geo.extendedL2()) cols.add(Column.hex("subcluster_bitmap"));
        cols.addAll(List.of(Column.bytes("compressed_bytes"), Column.plain("refcount"), Column.hex("reserved_bits"),
                Column.hex("raw")));
        return cols;
    }

    private static void row(TableView.Builder t, L2Entry e, long i, int j, long guest, ClusterGeometry geo, RecordedRefcounts refs)
            throws IOException {
        Long host = switch (e) {
            case L2Entry.Normal n -> n.hostOffset();
            case L2Entry.Zero z -> z.preallocated() ? z.hostOffset() : null;
            case L2Entry.Compressed c -> c.hostOffset();
            case L2Entry.Unallocated u -> null;
        };
        Long compressedBytes = e instanceof L2Entry.Compressed c ? (long) c.compressedLength() : null;
        boolean copied = (e.raw() & L2Entry.COPIED) != 0;
        List<Object> values = new ArrayList<>(List.of((Object) i, (long) j, guest));
        values.add(host);
        values.add(kind(e));
        values.add(copied);
        values.add(e instanceof L2Entry.Compressed);
        values.add(readsAsZero(e, geo));
        if (geo.extendedL2()) values.add(e.bitmap());
        values.add(compressedBytes);
        values.add(host == null ? null : refs.at(host));
        values.add(e.reservedBits() == 0 ? null : e.reservedBits());
        values.add(e.raw());
        t.add(values.toArray());
    }

    /** QEMU's cluster type names (QCOW2_CLUSTER_*), lower case with dashes. */
    public static String kind(L2Entry e) {
        return switch (e) {
            case L2Entry.Normal n -> "normal";
            case L2Entry.Zero z -> z.preallocated() ? "zero-alloc" : "zero-plain";
            case L2Entry.Compressed c -> "compressed";
            case L2Entry.Unallocated u -> "unallocated";
        };
    }

    /** Every subcluster reads as zeros from this entry itself (not from a backing file). */
    public static boolean readsAsZero(L2Entry e, ClusterGeometry geo) {
        for (int s = 0; s < geo.subclustersPerCluster(); s++) {
            SubclusterType type = e.subcluster(s);
            if (type != SubclusterType.ZERO_PLAIN && type != SubclusterType.ZERO_ALLOC) return false;
        }
        return true;
    }
}
