package dev.qcow2.cli;

import dev.qcow2.format.BitmapDirectoryEntry;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.image.Qcow2Image;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code dump snapshots} (every table field) and {@code dump bitmaps} (directory and set-bit counts). */
final class SnapshotDump {
    private SnapshotDump() { }

    static List<Object> snapshots(Qcow2Image img) throws IOException {
        List<Object> out = new ArrayList<>();
        for (SnapshotEntry s : img.snapshots()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("entry_offset", s.entryOffset());
            m.put("id", s.id());
            m.put("name", s.name());
            m.put("l1_table_offset", s.l1TableOffset());
            m.put("l1_size", s.l1Size());
            m.put("date_sec", s.dateSec());
            m.put("date_nsec", s.dateNsec());
            m.put("vm_clock_nsec", s.vmClockNsec());
            m.put("vm_state_size", s.vmStateSize());
            m.put("extra_data_size", s.extraDataSize());
            m.put("disk_size", s.diskSize());
            m.put("icount", s.icount());
            m.put("unknown_extra_data_bytes", (long) s.unknownExtraData().length);
            out.add(m);
        }
        return out;
    }

    static List<Object> bitmaps(Qcow2Image img) throws IOException {
        List<Object> out = new ArrayList<>();
        for (BitmapDirectoryEntry e : img.bitmaps()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("entry_offset", e.entryOffset());
            m.put("name", e.name());
            m.put("table_offset", e.tableOffset());
            m.put("table_size", e.tableSize());
            m.put("flags", (long) e.flags());
            m.put("in_use", e.inUse());
            m.put("auto", e.auto());
            m.put("type", (long) e.type());
            m.put("granularity", e.granularity());
            m.put("extra_data_size", e.extraDataSize());
            m.put("set_bits", img.bitmap(e).countSetBits());
            out.add(m);
        }
        return out;
    }
}
