package dev.qcow2.check;

import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.format.SnapshotTable;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * QEMU's {@code qcow2_check_read_snapshot_table}: the table pointer is validated
 * ({@code qcow2_validate_table}), the entries are read as {@code qcow2_do_read_snapshots}
 * does (each one by {@link SnapshotTable#decodeEntry}, the reader's own decoder), and v3 entries with less than 16 bytes of extra data are corruptions.
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
    static final long MAX_TABLE_BYTES = SnapshotTable.MAX_TABLE_BYTES;
    static final long MAX_EXTRA_DATA = SnapshotEntry.MAX_EXTRA_DATA;
    private static final int HEADER = SnapshotEntry.HEADER_SIZE;

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
            tableLength = (tableLength + 7) & ~7L;
            offset = (offset + 7) & ~7L;
            SnapshotTable.Decoded d = SnapshotTable.decodeEntry(storage, header, offset);
            SnapshotEntry e = d.entry();
            if (d.extraDataTruncated()) {
                if (!fixErrors) {
                    unreadable(state, offset, "Too much extra metadata in snapshot table entry " + i
                            + "\nYou can force-remove this extra metadata with qemu-img check -r all");
                }
                state.report(Finding.Type.SNAPSHOT_EXTRA_DATA_DROPPED, "snapshot table", offset, -1,
                        "Discarding too much extra metadata in snapshot table entry " + i + " ("
                                + d.storedExtraDataSize() + " > " + MAX_EXTRA_DATA + ")");
                rewrite++;
            }
            tableLength += d.keptLength();
            if (tableLength > MAX_TABLE_BYTES || d.end() - start > Integer.MAX_VALUE) {
                if (!fixErrors) {
                    unreadable(state, offset, "Snapshot table is too big\nYou can force-remove all " + (nb - i)
                            + " overhanging snapshots with qemu-img check -r all");
                }
                state.report(Finding.Type.SNAPSHOTS_DISCARDED, "snapshot table", offset, -1,
                        "Discarding " + (nb - i) + " overhanging snapshots (snapshot table is too big)");
                discarded += nb - i;
                break;
            }
            out.add(new Snapshot(e.id(), e.name(), e.l1TableOffset(), e.l1Size(), e.entryOffset(), e.extraDataSize()));
            entries.add(e);
            offset = d.end();
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
