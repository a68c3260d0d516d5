package dev.qcow2.view;

import dev.qcow2.format.BitmapDirectoryEntry;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.image.Qcow2Image;

import java.io.IOException;
import java.time.Instant;
import java.util.List;

/**
 * The snapshot table and the bitmap directory (qcow2.rst "Snapshots", "Bitmaps"): what
 * {@code qcow2 dump snapshots|bitmaps} and the DSL's {@code snapshot.list} / {@code bitmaps} show.
 */
public final class SnapshotViews {
    public static final String SNAPSHOT_TYPE = "snapshot";
    public static final String BITMAP_TYPE = "bitmap";

    private SnapshotViews() { }

    /**
     * Every snapshot table entry, in table order: the columns of {@code qemu-img snapshot -l}
     * (date as ISO-8601 UTC, VM clock as hh:mm:ss.mmm) and then the raw table fields; {@code
     * icount} is null when the entry has none, {@code disk_size} null when its extra data is too short.
     */
    public static TableView snapshots(Qcow2Image img) throws IOException {
        TableView.Builder t = TableView.of(SNAPSHOT_TYPE, "snapshots of " + Subject.of(img), List.of(Column.plain("id"),
                Column.plain("name"), Column.plain("date"), Column.plain("vm_clock"), Column.bytes("vm_state_size"),
                Column.bytes("disk_size"), Column.plain("icount"), Column.hex("l1_table_offset"), Column.plain("l1_size"),
                Column.bytes("extra_data_size"), Column.plain("unknown_extra_data_bytes"), Column.hex("entry_offset")));
        for (SnapshotEntry s : img.snapshots()) {
            t.add(s.id(), s.name(), Instant.ofEpochSecond(s.dateSec(), s.dateNsec()).toString(), vmClock(s.vmClockNsec()),
                    s.vmStateSize(), s.hasDiskSize() ? s.diskSize() : null, s.icount() < 0 ? null : s.icount(),
                    s.l1TableOffset(), s.l1Size(), s.extraDataSize(), (long) s.unknownExtraData().length, s.entryOffset());
        }
        return t.build();
    }

    /** {@code 00:00:01.250}: hours, minutes, seconds and milliseconds, as qemu-img snapshot -l. */
    public static String vmClock(long nsec) {
        long ms = nsec / 1_000_000L;
        return String.format("%02d:%02d:%02d.%03d", ms / 3_600_000L, (ms / 60_000L) % 60, (ms / 1000L) % 60, ms % 1000);
    }

    /** Every bitmap directory entry, with the number of set bits its table describes. */
    public static TableView bitmaps(Qcow2Image img) throws IOException {
        TableView.Builder t = TableView.of(BITMAP_TYPE, "bitmaps of " + Subject.of(img), List.of(Column.plain("name"),
                Column.bytes("granularity"), Column.plain("in_use"), Column.plain("auto"), Column.hex("flags"),
                Column.plain("bitmap_type"), Column.plain("set_bits"), Column.hex("table_offset"), Column.plain("table_size"),
                Column.bytes("extra_data_size"), Column.hex("entry_offset")));
        for (BitmapDirectoryEntry e : img.bitmaps()) {
            t.add(e.name(), e.granularity(), e.inUse(), e.auto(), (long) e.flags(), (long) e.type(),
                    img.bitmap(e).countSetBits(), e.tableOffset(), e.tableSize(), e.extraDataSize(), e.entryOffset());
        }
        return t.build();
    }
}
