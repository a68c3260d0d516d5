package dev.qcow2.repair;

import dev.qcow2.storage.WritableStorage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The storage repair writes through: before each write (or truncation) reaches the image, the
 * bytes it replaces are appended to the {@link UndoJournal} and forced to disk. The journal is
 * created on the first change, so a repair that changes nothing leaves none.
 */
final class JournaledStorage implements WritableStorage {
    private final WritableStorage target;
    private final Path journalPath;
    private final long originalLength;
    private final List<long[]> ranges = new ArrayList<>();
    private UndoJournal journal;

    JournaledStorage(WritableStorage target, Path journalPath) throws IOException {
        this.target = target;
        this.journalPath = journalPath;
        this.originalLength = target.size();
    }

    /** The journal, or null if nothing has been changed. */
    Path journal() { return journal == null ? null : journal.path(); }

    boolean changed() { return journal != null; }

    @Override public String describe() { return target.describe(); }

    @Override public long size() throws IOException { return target.size(); }

    @Override public void readFully(long offset, ByteBuffer dst) throws IOException { target.readFully(offset, dst); }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        int length = src.remaining();
        if (length == 0) return;
        record(offset, length);
        target.write(offset, src);
    }

    @Override
    public void setLength(long length) throws IOException {
        long current = target.size();
        if (length == current) return;
        if (length < current) {
            for (long at = length; at < current; at += 1 << 20) record(at, (int) Math.min(1 << 20, current - at));
        } else {
            open();   // the original length is in the journal header
        }
        target.setLength(length);
    }

    @Override public void flush() throws IOException { target.flush(); }

    /** Flushes the image, then seals the journal with the hash of the repaired state. */
    void commit() throws IOException {
        if (journal == null) return;
        target.flush();
        journal.commit(target.size(), UndoJournal.stateHash(target, ranges));
        journal.close();
    }

    private void record(long offset, int length) throws IOException {
        open();
        journal.recordOldBytes(offset, target.read(offset, length));
        ranges.add(new long[]{offset, length});
    }

    private void open() throws IOException {
        if (journal == null) journal = UndoJournal.create(journalPath, originalLength);
    }

    @Override
    public void close() throws IOException {
        if (journal != null) journal.close();
    }
}
