package dev.qcow2.cli;

import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.format.SnapshotTable;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.mapping.ClusterMapper;
import dev.qcow2.mapping.L1Table;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.units.HostOffset;
import dev.qcow2.walk.MetadataVisitor;
import dev.qcow2.walk.MetadataWalk;
import dev.qcow2.walk.Owner;
import dev.qcow2.walk.Tree;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code dump l1} and {@code dump l2}: the active (or a snapshot's) L1 table and its allocated L2 entries (through the {@link MetadataWalk}). */
final class TableDump {
    private TableDump() { }

    static long[] l1Table(Qcow2Image img, String snapshot) throws IOException {
        if (snapshot == null) return img.mapper().l1Table();
        SnapshotEntry s = img.findSnapshot(snapshot)
                .orElseThrow(() -> new Errors.CliException(img.describe() + ": snapshot '" + snapshot + "' not found"));
        SnapshotTable.validateL1(img.describe(), s, img.header().clusterSize());
        return ClusterMapper.readTable(img.storage(), s.l1TableOffset(), (int) s.l1Size());
    }

    static List<Object> l1(Qcow2Image img, String snapshot) throws IOException {
        List<Object> out = new ArrayList<>();
        long[] l1 = l1Table(img, snapshot);
        for (int i = 0; i < l1.length; i++) {
            L1Entry e = new L1Entry(l1[i]);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", (long) i);
            m.put("raw", l1[i]);
            m.put("l2_offset", e.l2Offset());
            m.put("copied", e.copied());
            if (e.reservedBits() != 0) m.put("reserved_bits", e.reservedBits());
            out.add(m);
        }
        return out;
    }

    static List<Object> l2(Qcow2Image img, String snapshot, Integer onlyIndex) throws IOException {
        ClusterGeometry geo = img.geometry();
        long[] l1 = l1Table(img, snapshot);
        Tree tree = Tree.ACTIVE;
        long l1Offset = img.header().l1TableOffset();
        if (snapshot != null) {
            SnapshotEntry s = img.findSnapshot(snapshot).orElseThrow();
            tree = new Tree.Snapshot(s.id(), s.name());
            l1Offset = s.l1TableOffset();
        }
        long perTable = geo.bytesPerL2Table();
        List<Object> out = new ArrayList<>();
        MetadataWalk walk = new MetadataWalk(img.storage(), img.header());
        walk.tree(tree, L1Table.fixed(new HostOffset(l1Offset), l1),
                new MetadataVisitor<RuntimeException>() {
                    @Override public void range(Owner owner, long offset, long length) { }

                    @Override
                    public boolean l1Entry(Tree t, int i, long entryOffset, long raw) {
                        return (onlyIndex == null || i == onlyIndex) && new L1Entry(raw).allocated();
                    }

                    @Override
                    public boolean l2Entry(Tree t, long guest, int j, long entryOffset, long raw, long bitmap) {
                        if (raw != 0 || bitmap != 0) out.add(entry(geo, guest / perTable, j, guest, walk.decode(raw, bitmap)));
                        return false;
                    }
                });
        return out;
    }

    private static Map<String, Object> entry(ClusterGeometry geo, long i, int j, long guest, L2Entry e) {
        long raw = e.raw();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("l1_index", i);
        m.put("l2_index", (long) j);
        m.put("guest_offset", guest);
        m.put("kind", kind(e));
        m.put("raw", raw);
        switch (e) {
            case L2Entry.Normal n -> m.put("host_offset", n.hostOffset());
            case L2Entry.Zero z when z.preallocated() -> m.put("host_offset", z.hostOffset());
            case L2Entry.Compressed c -> {
                m.put("host_offset", c.hostOffset());
                m.put("compressed_bytes", (long) c.compressedLength());
            }
            default -> { }
        }
        m.put("copied", (raw & L2Entry.COPIED) != 0);
        if (geo.extendedL2()) m.put("subcluster_bitmap", e.bitmap());
        if (e.reservedBits() != 0) m.put("reserved_bits", e.reservedBits());
        return m;
    }

    private static String kind(L2Entry e) {
        return switch (e) {
            case L2Entry.Normal n -> "normal";
            case L2Entry.Zero z -> z.preallocated() ? "zero-preallocated" : "zero";
            case L2Entry.Compressed c -> "compressed";
            case L2Entry.Unallocated u -> "unallocated";
        };
    }
}
