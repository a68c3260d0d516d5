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
 *
 * <p>Clusters the repair frees are punched out of the file as QEMU does (update_refcount with
 * QCOW2_DISCARD_ALWAYS queues a discard when a refcount drops to 0; qcow2_process_discards
 * sends it to the file driver, which punches a hole). A punch is a change like any write: the
 * bytes it drops go to the journal first, so undo restores them. Punches wait for the next
 * {@link #flush()}, after the refcounts that free the clusters are durable (QEMU punches before
 * its refcount cache is flushed; a crash in between would leave a referenced hole there, here at
 * worst a free cluster that still holds bytes).
 */
final class JournaledStorage implements WritableStorage {
    private final WritableStorage target;
    private final Path journalPath;
    private final long originalLength;
    private final List<long[]> ranges = new ArrayList<>();
    /** Freed host ranges {offset, length}, contiguous ones merged, punched at the next flush. */
    private final List<long[]> freed = new ArrayList<>();
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

    /** Queues the host range of a cluster whose refcount the repair set to 0, to be punched after the next flush. */
    void discardWhenFlushed(long offset, long length) {
        long[] last = freed.isEmpty() ? null : freed.get(freed.size() - 1);
        if (last != null && last[0] + last[1] == offset) last[1] += length;
        else freed.add(new long[]{offset, length});
    }

    @Override
    public void flush() throws IOException {
        target.flush();
        if (freed.isEmpty()) return;
        for (long[] range : freed) punchHole(range[0], range[1]);
        freed.clear();
        target.flush();
    }

    /** Journals the old bytes of the range (clipped to the file), then punches it. */
    @Override
    public boolean punchHole(long offset, long length) throws IOException {
        long end = Math.min(target.size(), offset + length);
        if (offset >= end) return true;
        for (long at = offset; at < end; at += 1 << 20) record(at, (int) Math.min(1 << 20, end - at));
        return target.punchHole(offset, end - offset);
    }

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
