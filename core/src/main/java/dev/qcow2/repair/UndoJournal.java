package dev.qcow2.repair;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.storage.Storage;
import dev.qcow2.storage.WritableFileStorage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The undo journal a repair keeps beside the image ({@code IMAGE-undo}): the original file
 * length, then the old bytes of every range in the order the repair overwrote them, then a
 * commit record with a hash of the repaired state.
 *
 * <p>Format (version 1, big-endian): a 32-byte header {@code "QCOW2UND"}, u32 version, u32 0,
 * u64 original length, u32 CRC-32 of the preceding 24 bytes, u32 0; then records {@code u8 type,
 * 3 zero bytes, u32 length, u64 offset, data[length], u32 CRC-32 of all before it}. Types:
 * 1 old bytes at offset, 2 commit (data: u64 final length + SHA-256), 3 undo started.
 *
 * <p>Invariant: each record is durable (forced) before the image write it describes, so the
 * journal always explains every change made to the image. A torn last record belongs to a write
 * that never happened and is ignored.
 */
public final class UndoJournal implements Closeable {
    static final byte[] MAGIC = {'Q', 'C', 'O', 'W', '2', 'U', 'N', 'D'};
    static final int VERSION = 1;
    static final int HEADER_BYTES = 32;
    static final int RECORD_HEADER = 16;
    static final byte OLD_BYTES = 1, COMMIT = 2, UNDO_STARTED = 3;

    private final Path path;
    private final FileChannel channel;

    private UndoJournal(Path path, FileChannel channel) {
        this.path = path;
        this.channel = channel;
    }

    /** Where the journal of {@code image} lives. */
    public static Path pathFor(Path image) {
        return image.resolveSibling(image.getFileName() + "-undo");
    }

    /** Creates a new journal (never overwrites one) and makes its header and directory entry durable. */
    static UndoJournal create(Path path, long originalLength) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            throw new PendingUndoException(path.toString());
        }
        ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES);
        h.put(MAGIC).putInt(VERSION).putInt(0).putLong(originalLength);
        h.putInt((int) crc(h.array(), 0, 24)).putInt(0).flip();
        while (h.hasRemaining()) ch.write(h);
        ch.force(true);
        syncDirectory(path);
        return new UndoJournal(path, ch);
    }

    public Path path() { return path; }

    /** Appends the old contents of {@code [offset, offset + old.length)} and forces it to disk. */
    void recordOldBytes(long offset, byte[] old) throws IOException {
        append(OLD_BYTES, offset, old);
    }

    /** Appends the commit record: the repaired image's length and hash. */
    void commit(long finalLength, byte[] hash) throws IOException {
        append(COMMIT, 0, ByteBuffer.allocate(8 + hash.length).putLong(finalLength).put(hash).array());
    }

    private void append(byte type, long offset, byte[] data) throws IOException {
        ByteBuffer r = ByteBuffer.allocate(RECORD_HEADER + data.length + 4);
        r.put(type).put(new byte[3]).putInt(data.length).putLong(offset).put(data);
        r.putInt((int) crc(r.array(), 0, RECORD_HEADER + data.length)).flip();
        long at = channel.size();
        while (r.hasRemaining()) at += channel.write(r, at);
        channel.force(false);
    }

    @Override public void close() throws IOException { channel.close(); }

    // ---- reading and undo ----

    /** One journaled write: the image's bytes at {@code offset} before the repair overwrote them. */
    public record Range(long offset, byte[] old) { }

    /** A parsed journal: the ranges in write order, and the commit and undo-started records if present. */
    public record Contents(long originalLength, List<Range> ranges, long committedLength, byte[] committedHash,
                           boolean undoStarted) {
        /** The repair finished (its commit record is there); false: it was interrupted. */
        public boolean committed() { return committedHash != null; }
    }

    /**
     * The one reader of a journal file (what {@link #undo} restores from, and what the front ends
     * show): a damaged record before the last is an error; a torn last record is ignored.
     */
    public static Contents read(Path path) throws IOException {
        String name = path.toString();
        if (Files.size(path) > Integer.MAX_VALUE - 8) {
            throw new Qcow2Exception(name, "undo journal of " + Files.size(path) + " bytes is larger than this tool reads (2 GiB)");
        }
        byte[] all = Files.readAllBytes(path);
        ByteBuffer b = ByteBuffer.wrap(all);
        if (all.length < HEADER_BYTES || !Arrays.equals(Arrays.copyOf(all, 8), MAGIC)) {
            throw new Qcow2Exception(name, "not a qcow2 undo journal");
        }
        if (b.getInt(8) != VERSION) throw new Qcow2Exception(name, "unsupported undo journal version " + b.getInt(8));
        if ((int) crc(all, 0, 24) != b.getInt(24)) throw new Qcow2Exception(name, "undo journal header checksum mismatch");
        long original = b.getLong(16);
        List<Range> ranges = new ArrayList<>();
        long committedLength = -1;
        byte[] hash = null;
        boolean undoStarted = false;
        int at = HEADER_BYTES;
        while (at < all.length) {
            int remaining = all.length - at;
            int len = remaining >= RECORD_HEADER ? b.getInt(at + 4) : -1;
            boolean complete = len >= 0 && (long) RECORD_HEADER + len + 4 <= remaining;
            boolean valid = complete && (int) crc(all, at, RECORD_HEADER + len) == b.getInt(at + RECORD_HEADER + len);
            if (!valid) {
                // a torn record is only possible at the end: its image write never happened
                if (complete && at + RECORD_HEADER + len + 4 < all.length) {
                    throw new Qcow2Exception(name, "undo journal damaged at byte " + at + " (checksum mismatch)");
                }
                break;
            }
            byte type = all[at];
            long offset = b.getLong(at + 8);
            byte[] data = Arrays.copyOfRange(all, at + RECORD_HEADER, at + RECORD_HEADER + len);
            switch (type) {
                case OLD_BYTES -> {
                    if (offset < 0) throw new Qcow2Exception(name, "undo journal record at byte " + at + " names a negative file offset");
                    ranges.add(new Range(offset, data));
                }
                case COMMIT -> {
                    if (data.length < 8) throw new Qcow2Exception(name, "undo journal commit record at byte " + at + " is too short");
                    committedLength = ByteBuffer.wrap(data).getLong(0);
                    hash = Arrays.copyOfRange(data, 8, data.length);
                }
                case UNDO_STARTED -> undoStarted = true;
                default -> throw new Qcow2Exception(name, "unknown undo journal record type " + type);
            }
            at += RECORD_HEADER + len + 4;
        }
        return new Contents(original, ranges, committedLength, hash, undoStarted);
    }

    /** SHA-256 of the image's length and of its current bytes in every journaled range (what the journal explains). */
    static byte[] stateHash(Storage image, List<long[]> ranges) throws IOException {
        MessageDigest md = sha256();
        md.update(ByteBuffer.allocate(8).putLong(image.size()).array());
        for (long[] r : ranges) {
            md.update(ByteBuffer.allocate(12).putLong(r[0]).putInt((int) r[1]).array());
            md.update(image.read(r[0], (int) r[1]));
        }
        return md.digest();
    }

    /** What {@link #undo} did. */
    public record Restored(Path journal, int ranges, long length, boolean wasInterrupted) { }

    /**
     * Restores {@code image} to its bytes and length before the repair, then deletes the journal.
     * Refuses if the image changed after the repair in a way the journal does not explain.
     */
    public static Restored undo(Path image) throws IOException {
        Path journalPath = pathFor(image);
        if (!Files.exists(journalPath)) {
            throw new Qcow2Exception(image.toString(), "no undo journal (" + journalPath + ") : nothing to undo");
        }
        Contents c = read(journalPath);
        try (WritableFileStorage storage = WritableFileStorage.open(image)) {
            if (c.committed() && !c.undoStarted()) {
                List<long[]> ranges = new ArrayList<>();
                for (Range r : c.ranges()) ranges.add(new long[]{r.offset(), r.old().length});
                if (storage.size() != c.committedLength()
                        || !MessageDigest.isEqual(stateHash(storage, ranges), c.committedHash())) {
                    throw new Qcow2Exception(image.toString(), "the image changed after the repair (it no longer "
                            + "matches the state recorded in " + journalPath + "); refusing to undo");
                }
            }
            if (!c.undoStarted()) {
                try (UndoJournal j = new UndoJournal(journalPath, FileChannel.open(journalPath, StandardOpenOption.WRITE,
                        StandardOpenOption.READ))) {
                    j.append(UNDO_STARTED, 0, new byte[0]);
                }
            }
            // newest first, so a range written twice ends with its oldest contents
            for (int i = c.ranges().size() - 1; i >= 0; i--) {
                Range r = c.ranges().get(i);
                storage.write(r.offset(), r.old());
            }
            storage.setLength(c.originalLength());
            storage.flush();
        }
        Files.delete(journalPath);
        syncDirectory(journalPath);
        return new Restored(journalPath, c.ranges().size(), c.originalLength(), !c.committed());
    }

    private static void syncDirectory(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // not every platform can sync a directory; the file itself is forced
        }
    }

    static long crc(byte[] bytes, int from, int length) {
        CRC32 c = new CRC32();
        c.update(bytes, from, length);
        return c.getValue();
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
