package dev.qcow2.check;

import dev.qcow2.format.Qcow2Header;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * QEMU's {@code qcow2_check_read_snapshot_table} without repair: the table pointer is validated
 * ({@code qcow2_validate_table}), the entries are read as {@code qcow2_do_read_snapshots}
 * does, and v3 entries with less than 16 bytes of extra data are corruptions. A table that
 * cannot be read (too big, too much extra data) is a check error and ends the check.
 */
final class SnapshotTableCheck {
    static final long MAX_SNAPSHOTS = 65536;
    static final long MAX_TABLE_BYTES = 1024L * 65536;   // QCOW_MAX_SNAPSHOTS_SIZE
    static final long MAX_EXTRA_DATA = 1024;             // QCOW_MAX_SNAPSHOT_EXTRA_DATA
    private static final int HEADER = 40;

    /** One entry as far as the check needs it. */
    record Snapshot(String id, String name, long l1Offset, long l1Size, long entryOffset, long extraDataSize) { }

    record Table(List<Snapshot> snapshots, long offset, long size) { }

    private SnapshotTableCheck() { }

    static Table read(Storage storage, Qcow2Header header, CheckState state) throws IOException, CheckState.Aborted {
        long nb = header.nbSnapshots();
        long start = header.snapshotsOffset();
        int cs = header.clusterSize();
        if (nb > MAX_SNAPSHOTS) {
            state.report(Finding.Type.SNAPSHOT_TABLE_INVALID, "snapshot table", start, -1, "ERROR snapshot table too large");
            throw new CheckState.Aborted("File too large");
        }
        if (Long.MAX_VALUE - nb * HEADER < start || (start & (cs - 1)) != 0) {
            state.report(Finding.Type.SNAPSHOT_TABLE_INVALID, "snapshot table", start, -1,
                    "ERROR snapshot table offset invalid");
            throw new CheckState.Aborted("Invalid argument");
        }
        List<Snapshot> out = new ArrayList<>();
        long offset = start;
        for (int i = 0; i < nb; i++) {
            offset = (offset + 7) & ~7L;
            ByteBuffer h = ByteBuffer.wrap(storage.read(offset, HEADER));
            long entryOffset = offset;
            offset += HEADER;
            long l1Offset = h.getLong(0);
            long l1Size = Integer.toUnsignedLong(h.getInt(8));
            int idSize = Short.toUnsignedInt(h.getShort(12));
            int nameSize = Short.toUnsignedInt(h.getShort(14));
            long extra = Integer.toUnsignedLong(h.getInt(36));
            if (extra > MAX_EXTRA_DATA) {
                unreadable(state, entryOffset, "Too much extra metadata in snapshot table entry " + i);
            }
            offset += extra;
            String id = new String(storage.read(offset, idSize), StandardCharsets.UTF_8);
            offset += idSize;
            String name = new String(storage.read(offset, nameSize), StandardCharsets.UTF_8);
            offset += nameSize;
            if (offset - start > MAX_TABLE_BYTES) unreadable(state, entryOffset, "Snapshot table is too big");
            out.add(new Snapshot(id, name, l1Offset, l1Size, entryOffset, extra));
        }
        // v3 images need vm_state_size_large and disk_size in every entry's extra data
        for (int i = 0; i < out.size() && header.version() >= 3; i++) {
            if (out.get(i).extraDataSize() < 16) {
                state.report(Finding.Type.SNAPSHOT_ENTRY_INCOMPLETE, "snapshot table", out.get(i).entryOffset(), -1,
                        "ERROR snapshot table entry " + i + " is incomplete");
            }
        }
        return new Table(out, start, nb == 0 ? 0 : offset - start);
    }

    private static void unreadable(CheckState state, long at, String why) throws CheckState.Aborted {
        state.report(Finding.Type.SNAPSHOT_TABLE_UNREADABLE, "snapshot table", at, -1,
                "ERROR failed to read the snapshot table: " + why);
        throw new CheckState.Aborted("File too large");
    }
}
