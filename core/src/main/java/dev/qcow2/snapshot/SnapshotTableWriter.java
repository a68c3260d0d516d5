package dev.qcow2.snapshot;

import dev.qcow2.ImageLimitException;
import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.HeaderPatch;
import dev.qcow2.alloc.RefcountStore;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.HeaderField;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.format.SnapshotTable;
import dev.qcow2.storage.WritableStorage;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Replaces the snapshot table as QEMU's qcow2_write_snapshots: the new table goes to newly
 * allocated clusters and is flushed (with its refcounts) before one header write switches
 * {@code nb_snapshots} and {@code snapshots_offset} (bytes 60-71, inside the first sector, so
 * the switch is atomic); the old table is freed only after that write is durable. A crash at
 * any point leaves the old or the new table in force, at worst with leaked clusters.
 */
public final class SnapshotTableWriter {
    /** Known extra data: vm_state_size_large, disk_size, icount. */
    static final int KNOWN_EXTRA = SnapshotTable.KNOWN_EXTRA_DATA;

    private SnapshotTableWriter() { }

    /** The encoded table ({@link SnapshotTable#encode}), each entry with at least the known 24 bytes of extra data. */
    static byte[] encode(String res, List<SnapshotRecord> snapshots) throws ImageLimitException {
        List<SnapshotEntry> entries = new ArrayList<>();
        long size = 0;
        for (SnapshotRecord s : snapshots) {
            SnapshotEntry e = new SnapshotEntry(0, s.l1TableOffset(), s.l1Size(), s.id(), s.name(), s.dateSec(),
                    s.dateNsec(), s.vmClockNsec(), s.vmStateSize(), Math.max(KNOWN_EXTRA, s.extraDataSize()), s.diskSize(),
                    true, s.icount(), s.unknownExtraData(), 0);
            size = ((size + 7) & ~7L) + SnapshotTable.entryLength(e);
            if (size > SnapshotTable.MAX_TABLE_BYTES) throw new ImageLimitException(res, "Snapshot table is too big");
            entries.add(e);
        }
        return SnapshotTable.encode(entries);
    }

    /**
     * Writes {@code snapshots} as the new table and switches the header to it.
     *
     * @param oldOffset where the current table is
     * @param oldLength its length in bytes (0 when there is none)
     */
    static void replace(SyncedStorage storage, ClusterAllocator allocator, List<SnapshotRecord> snapshots,
                        long oldOffset, long oldLength) throws IOException {
        byte[] table = encode(storage.describe(), snapshots);
        long offset = 0;
        if (table.length > 0) {
            offset = allocator.allocate(table.length);
            storage.write(offset, table);
        }
        storage.barrier();
        HeaderPatch.write(storage, HeaderField.NB_SNAPSHOTS.is(snapshots.size()), HeaderField.SNAPSHOTS_OFFSET.is(offset));
        storage.barrier();
        if (oldLength > 0) allocator.free(oldOffset, oldLength);
    }

    /**
     * Writes {@code entries} as a new table in place of the current one (whose extent ends with
     * the last entry, as read), allocating through {@code file}'s own refcounts: the snapshot
     * table fix of {@code check -r all} (qcow2_check_fix_snapshot_table). Entries are written
     * with at least 24 bytes of extra data, filling in what an incomplete entry lacked.
     */
    public static void rewrite(WritableStorage file, Qcow2Header header, List<SnapshotEntry> entries) throws IOException {
        SyncedStorage storage = new SyncedStorage(file);
        RefcountStore refcounts = new RefcountStore(storage, header.geometry(), header.refcountTableOffset(),
                (int) header.refcountTableClusters());
        ClusterAllocator allocator = new ClusterAllocator(storage, refcounts);
        long oldLength = 0;
        if (!entries.isEmpty()) {
            SnapshotEntry last = entries.get(entries.size() - 1);
            oldLength = last.entryOffset() + last.length() - header.snapshotsOffset();
        }
        List<SnapshotRecord> records = new ArrayList<>();
        for (SnapshotEntry e : entries) records.add(SnapshotRecord.of(e));
        replace(storage, allocator, records, header.snapshotsOffset(), oldLength);
        storage.barrier();
    }
}
