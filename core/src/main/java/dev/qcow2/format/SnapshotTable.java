package dev.qcow2.format;

import dev.qcow2.CorruptImageException;
import dev.qcow2.ImageLimitException;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the snapshot table as QEMU's {@code qcow2_do_read_snapshots}: each entry 8-aligned, at
 * most 1024 bytes of extra data, the whole table at most 64 MiB. {@link #decodeEntry} is the
 * loop body (one entry); {@link #read} is the loop as QEMU runs it when opening an image, and
 * {@code check.SnapshotTableCheck} runs the same loop with check's reporting and repair policy.
 */
public final class SnapshotTable {
    private SnapshotTable() { }

    public static final long MAX_TABLE_BYTES = 1024L * 65536; // QCOW_MAX_SNAPSHOTS_SIZE

    public record Result(List<SnapshotEntry> entries, long tableLength) { }

    /**
     * One entry as decoded at its (8-aligned) offset.
     *
     * @param entry               the entry, with at most {@link SnapshotEntry#MAX_EXTRA_DATA} bytes of
     *                            extra data kept ({@code entry.extraDataSize()} is what was kept)
     * @param storedExtraDataSize the extra data size the entry declares (what QEMU's repair truncates)
     * @param end                 the file offset just past the entry (id and name included)
     */
    public record Decoded(SnapshotEntry entry, long storedExtraDataSize, long end) {
        /** The entry's length as QEMU's {@code table_length} counts it: with the kept extra data only. */
        public long keptLength() {
            return end - entry.entryOffset() - (storedExtraDataSize - entry.extraDataSize());
        }

        public boolean extraDataTruncated() { return storedExtraDataSize > entry.extraDataSize(); }
    }

    /**
     * Decodes the entry at {@code entryOffset} (8-aligned): the 40-byte header, the known extra
     * data (vm_state_size_large from 8 bytes on, disk_size from 16, icount from 24), at most
     * {@link SnapshotEntry#MAX_EXTRA_DATA} bytes of extra data in all (more is skipped: the caller
     * decides whether that is an error), the id and the name. Without a disk_size the entry's
     * disk size is the image's, in whole sectors ({@code bs->total_sectors * BDRV_SECTOR_SIZE}).
     */
    public static Decoded decodeEntry(Storage storage, Qcow2Header header, long entryOffset) throws IOException {
        ByteBuffer h = ByteBuffer.wrap(storage.read(entryOffset, SnapshotEntry.HEADER_SIZE));
        long offset = entryOffset + SnapshotEntry.HEADER_SIZE;
        long l1Offset = h.getLong(0);
        long l1Size = Integer.toUnsignedLong(h.getInt(8));
        int idSize = Short.toUnsignedInt(h.getShort(12));
        int nameSize = Short.toUnsignedInt(h.getShort(14));
        long dateSec = Integer.toUnsignedLong(h.getInt(16));
        long dateNsec = Integer.toUnsignedLong(h.getInt(20));
        long vmClock = h.getLong(24);
        long vmState = Integer.toUnsignedLong(h.getInt(32));
        long extraSize = Integer.toUnsignedLong(h.getInt(36));
        long keptExtra = Math.min(extraSize, SnapshotEntry.MAX_EXTRA_DATA);
        ByteBuffer extra = ByteBuffer.wrap(storage.read(offset, (int) keptExtra));
        long diskSize = header.size() / 512 * 512;
        boolean hasDiskSize = false;
        long icount = -1;
        if (extraSize >= 8) vmState = extra.getLong(0);
        if (extraSize >= 16) { diskSize = extra.getLong(8); hasDiskSize = true; }
        if (extraSize >= KNOWN_EXTRA_DATA) icount = extra.getLong(16);
        byte[] unknown = new byte[0];
        if (keptExtra > KNOWN_EXTRA_DATA) {
            unknown = new byte[(int) keptExtra - KNOWN_EXTRA_DATA];
            extra.get(KNOWN_EXTRA_DATA, unknown);
        }
        offset += extraSize;
        String id = new String(storage.read(offset, idSize), StandardCharsets.UTF_8);
        offset += idSize;
        String name = new String(storage.read(offset, nameSize), StandardCharsets.UTF_8);
        offset += nameSize;
        SnapshotEntry entry = new SnapshotEntry(entryOffset, l1Offset, l1Size, id, name, dateSec, dateNsec, vmClock,
                vmState, keptExtra, diskSize, hasDiskSize, icount, unknown, offset - entryOffset);
        return new Decoded(entry, extraSize, offset);
    }

    public static List<SnapshotEntry> read(Storage storage, Qcow2Header header) throws IOException {
        return read(storage, header, false).entries();
    }

    /**
     * The table as QEMU reads it when opening the image: too much extra data in an entry or a
     * table over 64 MiB is an {@link ImageLimitException}.
     *
     * @param lenient for {@code check}: do not fail on entries QEMU's repair would discard;
     *                stop at the first entry that would exceed the size limit instead.
     */
    public static Result read(Storage storage, Qcow2Header header, boolean lenient) throws IOException {
        String res = storage.describe();
        List<SnapshotEntry> out = new ArrayList<>();
        long start = header.snapshotsOffset();
        long offset = start;
        long tableLength = 0;   // QEMU's table_length: entries with the extra data kept, 8-aligned
        long count = header.nbSnapshots();
        // qcow2_validate_table's limit (QCOW_MAX_SNAPSHOTS entries) before any entry is read: a
        // header read for check skips it, and a count of 2^31 would otherwise mean millions of
        // entry reads before the 64 MiB table_length limit stops the loop. Check reads (and
        // reports) the first QCOW_MAX_SNAPSHOTS, as qcow2_check_read_snapshot_table does.
        if (count > Qcow2Header.MAX_SNAPSHOTS) {
            if (!lenient) throw new ImageLimitException(res, "Snapshot table too large");
            count = Qcow2Header.MAX_SNAPSHOTS;
        }
        for (long i = 0; i < count; i++) {
            tableLength = (tableLength + 7) & ~7L;
            offset = (offset + 7) & ~7L;
            Decoded d = decodeEntry(storage, header, offset);
            if (d.extraDataTruncated() && !lenient) {
                throw new ImageLimitException(res, "Too much extra metadata in snapshot table entry " + i
                        + " (" + d.storedExtraDataSize() + " > " + SnapshotEntry.MAX_EXTRA_DATA + ")");
            }
            tableLength += d.keptLength();
            if (tableLength > MAX_TABLE_BYTES || d.end() - start > Integer.MAX_VALUE) {
                if (lenient) return new Result(out, offset - start);
                throw new ImageLimitException(res, "Snapshot table is too big");
            }
            out.add(d.entry());
            offset = d.end();
        }
        return new Result(out, offset - start);
    }

    /** Bytes of known extra data: vm_state_size_large, disk_size, icount. */
    public static final int KNOWN_EXTRA_DATA = 24;

    /** Bytes of {@code e} as encoded (header, extra data, id, name; without the padding to 8). */
    public static long entryLength(SnapshotEntry e) {
        return SnapshotEntry.HEADER_SIZE + e.extraDataSize() + utf8(e.id()).length + utf8(e.name()).length;
    }

    /**
     * The table holding {@code entries} in order, each starting on an 8-byte boundary (as QEMU's
     * qcow2_write_snapshots): the inverse of {@link #read}, which sets each entry's
     * {@code entryOffset} and {@code length} from where it lands. Each entry carries
     * {@code extraDataSize} bytes of extra data: of the known fields those that fit
     * (vm_state_size_large from 8 bytes on, disk_size from 16, icount from 24), then the unknown
     * extra data. The 32-bit vm_state_size holds the size when it fits in 32 bits, else 0 (the
     * 64-bit field then carries it).
     */
    public static byte[] encode(List<SnapshotEntry> entries) {
        long size = 0;
        for (SnapshotEntry e : entries) size = ((size + 7) & ~7L) + entryLength(e);
        if (size > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("snapshot table of " + size + " bytes");
        ByteBuffer b = ByteBuffer.allocate((int) size);
        for (SnapshotEntry e : entries) {
            b.position((b.position() + 7) & ~7);
            byte[] id = utf8(e.id());
            byte[] name = utf8(e.name());
            if (id.length > 0xffff || name.length > 0xffff) throw new IllegalArgumentException("snapshot id or name over 65535 bytes");
            long extra = e.extraDataSize();
            b.putLong(e.l1TableOffset()).putInt((int) e.l1Size());
            b.putShort((short) id.length).putShort((short) name.length);
            b.putInt((int) e.dateSec()).putInt((int) e.dateNsec()).putLong(e.vmClockNsec());
            b.putInt(e.vmStateSize() <= 0xffff_ffffL ? (int) e.vmStateSize() : 0);
            b.putInt((int) extra);
            int extraStart = b.position();
            if (extra >= 8) b.putLong(e.vmStateSize());
            if (extra >= 16) b.putLong(e.diskSize());
            if (extra >= KNOWN_EXTRA_DATA) b.putLong(e.icount());
            if (extra > KNOWN_EXTRA_DATA && e.unknownExtraData() != null) {
                b.put(e.unknownExtraData(), 0, (int) Math.min(e.unknownExtraData().length, extra - KNOWN_EXTRA_DATA));
            }
            b.position(extraStart + (int) extra);
            b.put(id).put(name);
        }
        return b.array();
    }

    private static byte[] utf8(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    /** Checks a snapshot's L1 table as QEMU's qcow2_snapshot_load_tmp does, before reading it. */
    public static void validateL1(String res, SnapshotEntry s, int clusterSize) throws IOException {
        if (s.l1Size() > Qcow2Header.MAX_L1_BYTES / 8) {
            throw new ImageLimitException(res, "Snapshot L1 table too large (snapshot '" + s.name() + "')");
        }
        if ((s.l1TableOffset() & (clusterSize - 1)) != 0 || s.l1TableOffset() < 0) {
            throw new CorruptImageException(res, "snapshot table", s.entryOffset(), s.l1TableOffset(),
                    "Snapshot L1 table offset invalid (snapshot '" + s.name() + "')");
        }
    }
}
