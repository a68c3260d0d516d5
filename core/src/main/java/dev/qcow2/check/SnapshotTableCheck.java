package dev.qcow2.check;

import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * QEMU's {@code qcow2_check_read_snapshot_table}: the table pointer is validated
 * ({@code qcow2_validate_table}), the entries are read as {@code qcow2_do_read_snapshots}
 * does, and v3 entries with less than 16 bytes of extra data are corruptions.
 *
 * <p>Without {@code fixErrors} a table that cannot be read (too many entries, too much extra
 * data, more than 64 MiB) is a check error and ends the check. With it (check -r all), as
 * QEMU: more than 65536 entries, or entries from the one that makes the table exceed 64 MiB on,
 * are discarded ({@link Table#discarded()}: the caller lowers {@code nb_snapshots} in the header
 * before anything else); extra data beyond 1024 bytes is cut to 1024 and incomplete entries are
 * filled in ({@link Table#needsRewrite()}: the caller writes a new table after the refcounts
 * are fixed, as {@code qcow2_check_fix_snapshot_table}).
 */
final class SnapshotTableCheck {
    static final long MAX_SNAPSHOTS = 65536;
    static final long MAX_TABLE_BYTES = 1024L * 65536;   // QCOW_MAX_SNAPSHOTS_SIZE
    static final long MAX_EXTRA_DATA = 1024;             // QCOW_MAX_SNAPSHOT_EXTRA_DATA
    private static final int HEADER = 40;
    /** sizeof(QCowSnapshotExtraData): vm_state_size_large, disk_size, icount. */
    private static final int KNOWN_EXTRA = 24;

    /** One entry as far as the check needs it. */
    record Snapshot(String id, String name, long l1Offset, long l1Size, long entryOffset, long extraDataSize) { }

    /**
     * The table as read: its entries (complete, for a rewrite), the extent the check counts
     * ({@code offset}, {@code size}), how many entries were discarded off the end, and how many
     * entries must be rewritten (extra data cut or incomplete).
     */
    record Table(List<Snapshot> snapshots, List<SnapshotEntry> entries, long offset, long size, long discarded,
                 long needsRewrite) { }

    private SnapshotTableCheck() { }

    static Table read(Storage storage, Qcow2Header header, CheckState state) throws IOException, CheckState.Aborted {
        return read(storage, header, state, false);
    }

    static Table read(Storage storage, Qcow2Header header, CheckState state, boolean fixErrors)
            throws IOException, CheckState.Aborted {
        long nb = header.nbSnapshots();
        long start = header.snapshotsOffset();
        int cs = header.clusterSize();
        long discarded = 0;
        if (nb > MAX_SNAPSHOTS && fixErrors) {
            discarded = nb - MAX_SNAPSHOTS;
            state.report(Finding.Type.SNAPSHOTS_DISCARDED, "snapshot table", start, -1,
                    "Discarding " + discarded + " overhanging snapshots");
            nb = MAX_SNAPSHOTS;
        }
        if (nb > MAX_SNAPSHOTS) {
            state.report(Finding.Type.SNAPSHOT_TABLE_INVALID, "snapshot table", start, -1, "ERROR snapshot table too large\n"
                    + "You can force-remove all " + (nb - MAX_SNAPSHOTS) + " overhanging snapshots with qemu-img check -r all");
            throw new CheckState.Aborted("File too large");
        }
        if (Long.MAX_VALUE - nb * HEADER < start || (start & (cs - 1)) != 0) {
            state.report(Finding.Type.SNAPSHOT_TABLE_INVALID, "snapshot table", start, -1,
                    "ERROR snapshot table offset invalid");
            throw new CheckState.Aborted("Invalid argument");
        }
        List<Snapshot> out = new ArrayList<>();
        List<SnapshotEntry> entries = new ArrayList<>();
        long rewrite = 0;
        long offset = start;
        long tableLength = 0;   // QEMU's table_length: counts extra data as kept (at most 1024 bytes)
        for (int i = 0; i < nb; i++) {
            long before = offset;
            tableLength = (tableLength + 7) & ~7L;
            offset = (offset + 7) & ~7L;
            ByteBuffer h = ByteBuffer.wrap(storage.read(offset, HEADER));
            long entryOffset = offset;
            offset += HEADER;
            long l1Offset = h.getLong(0);
            long l1Size = Integer.toUnsignedLong(h.getInt(8));
            int idSize = Short.toUnsignedInt(h.getShort(12));
            int nameSize = Short.toUnsignedInt(h.getShort(14));
            long vmState = Integer.toUnsignedLong(h.getInt(32));
            long extra = Integer.toUnsignedLong(h.getInt(36));
            long kept = extra;
            if (extra > MAX_EXTRA_DATA) {
                if (!fixErrors) {
                    unreadable(state, entryOffset, "Too much extra metadata in snapshot table entry " + i
                            + "\nYou can force-remove this extra metadata with qemu-img check -r all");
                }
                state.report(Finding.Type.SNAPSHOT_EXTRA_DATA_DROPPED, "snapshot table", entryOffset, -1,
                        "Discarding too much extra metadata in snapshot table entry " + i + " (" + extra + " > "
                                + MAX_EXTRA_DATA + ")");
                rewrite++;
                kept = MAX_EXTRA_DATA;
            }
            ByteBuffer known = ByteBuffer.wrap(storage.read(offset, (int) Math.min(KNOWN_EXTRA, kept)));
            long diskSize = header.size() / 512 * 512;
            long icount = -1;
            if (extra >= 8) vmState = known.getLong(0);
            if (extra >= 16) diskSize = known.getLong(8);
            if (extra >= 24) icount = known.getLong(16);
            byte[] unknown = kept > KNOWN_EXTRA ? storage.read(offset + KNOWN_EXTRA, (int) (kept - KNOWN_EXTRA)) : new byte[0];
            offset += extra;
            String id = new String(storage.read(offset, idSize), StandardCharsets.UTF_8);
            offset += idSize;
            String name = new String(storage.read(offset, nameSize), StandardCharsets.UTF_8);
            offset += nameSize;
            tableLength += HEADER + kept + idSize + nameSize;
            if (tableLength > MAX_TABLE_BYTES || offset - start > Integer.MAX_VALUE) {
                if (!fixErrors) {
                    unreadable(state, entryOffset, "Snapshot table is too big\nYou can force-remove all " + (nb - i)
                            + " overhanging snapshots with qemu-img check -r all");
                }
                state.report(Finding.Type.SNAPSHOTS_DISCARDED, "snapshot table", entryOffset, -1,
                        "Discarding " + (nb - i) + " overhanging snapshots (snapshot table is too big)");
                discarded += nb - i;
                offset = before;
                break;
            }
            out.add(new Snapshot(id, name, l1Offset, l1Size, entryOffset, kept));
            entries.add(new SnapshotEntry(entryOffset, l1Offset, l1Size, id, name, Integer.toUnsignedLong(h.getInt(16)),
                    Integer.toUnsignedLong(h.getInt(20)), h.getLong(24), vmState, kept, diskSize, extra >= 16, icount,
                    unknown, offset - entryOffset));
        }
        // v3 images need vm_state_size_large and disk_size in every entry's extra data
        for (int i = 0; i < out.size() && header.version() >= 3; i++) {
            if (out.get(i).extraDataSize() < 16) {
                state.report(Finding.Type.SNAPSHOT_ENTRY_INCOMPLETE, "snapshot table", out.get(i).entryOffset(), -1,
                        (fixErrors ? "Repairing" : "ERROR") + " snapshot table entry " + i + " is incomplete");
                rewrite++;
            }
        }
        return new Table(out, entries, start, out.isEmpty() ? 0 : offset - start, discarded, fixErrors ? rewrite : 0);
    }

    private static void unreadable(CheckState state, long at, String why) throws CheckState.Aborted {
        state.report(Finding.Type.SNAPSHOT_TABLE_UNREADABLE, "snapshot table", at, -1,
                "ERROR failed to read the snapshot table: " + why);
        throw new CheckState.Aborted("File too large");
    }
}
