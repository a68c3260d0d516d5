package dev.qcow2.cli;

import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.format.SnapshotTable;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.mapping.ClusterMapper;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.units.HostOffset;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code dump l1} and {@code dump l2}: the active (or a snapshot's) L1 table and its allocated L2 entries. */
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
        boolean external = img.header().hasExternalDataFile();
        long[] l1 = l1Table(img, snapshot);
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < l1.length; i++) {
            if (onlyIndex != null && i != onlyIndex) continue;
            long l2Offset = l1[i] & L1Entry.OFFSET_MASK;
            if (l2Offset == 0) continue;
            long[] table = img.mapper().l2Table(new HostOffset(l2Offset));
            for (int j = 0; j < geo.l2Entries(); j++) {
                long raw = geo.extendedL2() ? table[2 * j] : table[j];
                long bitmap = geo.extendedL2() ? table[2 * j + 1] : 0;
                if (raw == 0 && bitmap == 0) continue;
                L2Entry e = L2Entry.decode(raw, bitmap, geo, external);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("l1_index", (long) i);
                m.put("l2_index", (long) j);
                m.put("guest_offset", (((long) i * geo.l2Entries()) + j) << geo.clusterBits());
                m.put("kind", kind(e));
                m.put("raw", raw);
                if (e instanceof L2Entry.Normal n) m.put("host_offset", n.hostOffset());
                if (e instanceof L2Entry.Zero z && z.preallocated()) m.put("host_offset", z.hostOffset());
                if (e instanceof L2Entry.Compressed c) {
                    m.put("host_offset", c.hostOffset());
                    m.put("compressed_bytes", (long) c.compressedLength());
                }
                m.put("copied", (raw & L2Entry.COPIED) != 0);
                if (geo.extendedL2()) m.put("subcluster_bitmap", bitmap);
                if (e.reservedBits() != 0) m.put("reserved_bits", e.reservedBits());
                out.add(m);
            }
        }
        return out;
    }

    private static String kind(L2Entry e) {
        if (e instanceof L2Entry.Normal) return "normal";
        if (e instanceof L2Entry.Zero z) return z.preallocated() ? "zero-preallocated" : "zero";
        if (e instanceof L2Entry.Compressed) return "compressed";
        return "unallocated";
    }
}
