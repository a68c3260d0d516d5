package dev.qcow2.alloc;

import dev.qcow2.storage.WritableStorage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The image file as the write engine sees it: every write goes through here, so the engine
 * knows whether anything is still unflushed. {@link #barrier()} is the ordering point of the
 * crash-safety rule "refcounts and new tables durable before anything references them".
 *
 * <p>Besides direct writes there are two kinds held in memory (reads see them), as QEMU's
 * metadata caches hold refcount blocks and L2 tables until a flush: {@link #writeBack} (may
 * reach the disk at any time; written just before the next fsync: refcount changes) and
 * {@link #writeAfterFlush} (must reach the disk only after everything written before it is
 * durable; written just after the next fsync: L2 entries naming new clusters). A
 * {@link #flush()} is therefore: write-back records, fsync, after-flush records, fsync; a
 * barrier is a flush when anything is pending. So a write with no explicit flush costs no fsync,
 * and a crash still leaves at worst leaked clusters: an entry never reaches the disk before the
 * data and refcounts it needs.
 *
 * <p>{@link #writeConcurrently} issues large data writes on a few I/O threads (QEMU's thread
 * pool does the same for requests in flight), so the kernel copies them on several cores.
 * They are all complete before any other operation here starts ({@link #drain()}), so every
 * observer, and the crash-safety order above, sees the same sequence as with plain writes.
 */
public final class SyncedStorage {
    /** Largest single write when pending records are written out. */
    private static final int MAX_RUN = 1 << 20;
    /** Records at most this far apart are written together. */
    private static final int GAP = 4096;
    /** Smaller writes are not worth a hand-over to an I/O thread. */
    private static final int CONCURRENT_MIN = 1 << 20;
    /** Longer writes are split into pieces of at least this size, one per I/O thread. */
    private static final int SPLIT_MIN = 512 << 10;
    private static final int IO_THREADS = Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors()));

    private final WritableStorage storage;
    private final TreeMap<Long, byte[]> writeBack = new TreeMap<>();
    private final TreeMap<Long, byte[]> afterFlush = new TreeMap<>();
    private boolean unflushed;
    private long length;
    /** extendTo grew {@link #length} past what was written: the file is grown by the next flush. */
    private boolean extendPending;
    /** Writes of {@link #writeConcurrently} not yet known to be complete. */
    private final List<Future<?>> inFlight = new ArrayList<>();
    private ExecutorService ioThreads;

    public SyncedStorage(WritableStorage storage) throws IOException {
        this.storage = storage;
        this.length = storage.size();
    }

    /** The file itself; reads through it do not see pending records ({@link #flush()} first). */
    public WritableStorage raw() throws IOException {
        drain();
        return storage;
    }

    public String describe() { return storage.describe(); }

    /** The file length as last seen or set by this engine. */
    public long length() { return length; }

    public byte[] read(long offset, int len) throws IOException {
        drain();
        byte[] out = storage.read(offset, len);
        overlay(writeBack, offset, out);
        overlay(afterFlush, offset, out);
        return out;
    }

    public void write(long offset, byte[] bytes) throws IOException { write(offset, bytes, 0, bytes.length); }

    public void write(long offset, byte[] bytes, int from, int len) throws IOException {
        write(offset, ByteBuffer.wrap(bytes, from, len));
    }

    /** Writes the remaining bytes of {@code src} now (a direct buffer goes to the file without a copy). */
    public void write(long offset, ByteBuffer src) throws IOException {
        int len = src.remaining();
        if (len == 0) return;
        drain();
        // pending records of the same bytes are older: they must not undo this write later
        patch(writeBack, offset, src);
        patch(afterFlush, offset, src);
        storage.write(offset, src);
        unflushed = true;
        length = Math.max(length, offset + len);
    }

    /**
     * {@link #write(long, ByteBuffer)} that may still be in progress when this returns (on an
     * I/O thread, when the storage takes concurrent writes): the caller must not change the
     * bytes of {@code src} before {@link #drain()}. Meant for the data of new clusters, which
     * no other write in flight overlaps. The position of {@code src} is not moved.
     */
    public void writeConcurrently(long offset, ByteBuffer src) throws IOException {
        int len = src.remaining();
        if (len < CONCURRENT_MIN || !storage.concurrentWrites()) {
            write(offset, src.duplicate());
            return;
        }
        patch(writeBack, offset, src);
        patch(afterFlush, offset, src);
        if (ioThreads == null) ioThreads = Executors.newFixedThreadPool(IO_THREADS, r -> {
            Thread t = new Thread(r, "qcow2-io");
            t.setDaemon(true);
            return t;
        });
        // a long write is split so that its pieces are copied on several cores too
        int pieces = Math.max(1, Math.min(IO_THREADS, len / SPLIT_MIN));
        int piece = (len / pieces + 4095) & ~4095;
        for (int at = 0; at < len; at += piece) {
            ByteBuffer bytes = src.slice(src.position() + at, Math.min(piece, len - at));
            long pos = offset + at;
            inFlight.add(ioThreads.submit(() -> {
                storage.write(pos, bytes);
                return null;
            }));
        }
        unflushed = true;
        length = Math.max(length, offset + len);
    }

    /** Waits for every write of {@link #writeConcurrently}; the first failure is thrown. */
    public void drain() throws IOException {
        if (inFlight.isEmpty()) return;
        IOException failure = null;
        for (Future<?> f : inFlight) {
            try {
                f.get();
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (failure == null) failure = c instanceof IOException io ? io : new IOException(c.getMessage(), c);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) failure = new java.io.InterruptedIOException("interrupted while writing " + storage.describe());
            }
        }
        inFlight.clear();
        if (failure != null) throw failure;
    }

    /** Stops the I/O threads (after waiting for their writes). */
    public void close() throws IOException {
        try {
            drain();
        } finally {
            if (ioThreads != null) ioThreads.shutdown();
        }
    }

    /** Queues a write that may reach the disk at any time before the next fsync (within the file's length). */
    public void writeBack(long offset, byte[] bytes, int from, int len) throws IOException {
        if (len == 0) return;
        drain();
        ByteBuffer src = ByteBuffer.wrap(bytes, from, len);
        patch(afterFlush, offset, src);
        put(writeBack, offset, src);
    }

    /** Queues a write that must reach the disk only after every earlier write is durable (written by the next flush). */
    public void writeAfterFlush(long offset, byte[] bytes) throws IOException {
        if (bytes.length == 0) return;
        drain();
        put(afterFlush, offset, ByteBuffer.wrap(bytes));
    }

    /**
     * Grows the file so that it covers {@code end}; never shrinks. The file itself is grown by
     * the next flush (until then its missing tail reads as zeros, and writes there grow it),
     * not once per allocation.
     */
    public void extendTo(long end) {
        if (end > length) {
            length = end;
            extendPending = true;
        }
    }

    /** Makes every earlier write durable, if there is any not yet flushed. */
    public void barrier() throws IOException {
        drain();
        if (unflushed || !writeBack.isEmpty() || !afterFlush.isEmpty()) flush();
    }

    public void flush() throws IOException {
        drain();
        writeOut(writeBack);
        if (extendPending) {
            if (storage.size() < length) storage.setLength(length);
            extendPending = false;
        }
        storage.flush();
        unflushed = false;
        if (!afterFlush.isEmpty()) {
            writeOut(afterFlush);
            storage.flush();
            unflushed = false;
        }
    }

    /** Adds a record, merged with the records it overlaps (its bytes win). */
    private static void put(TreeMap<Long, byte[]> records, long offset, ByteBuffer src) {
        int len = src.remaining();
        long start = offset, end = offset + len;
        Map.Entry<Long, byte[]> lower = records.lowerEntry(offset);
        if (lower != null && lower.getKey() + lower.getValue().length > offset) start = lower.getKey();
        Map<Long, byte[]> overlapping = records.subMap(start, true, end, false);
        if (overlapping.isEmpty()) {
            byte[] copy = new byte[len];
            src.get(src.position(), copy);
            records.put(offset, copy);
            return;
        }
        for (Map.Entry<Long, byte[]> e : overlapping.entrySet()) end = Math.max(end, e.getKey() + e.getValue().length);
        byte[] merged = new byte[(int) (end - start)];
        for (Map.Entry<Long, byte[]> e : overlapping.entrySet()) {
            System.arraycopy(e.getValue(), 0, merged, (int) (e.getKey() - start), e.getValue().length);
        }
        overlapping.clear();
        src.get(src.position(), merged, (int) (offset - start), len);
        records.put(start, merged);
    }

    /** Copies the bytes of {@code src} (written at {@code offset}) into the records they overlap. */
    private static void patch(TreeMap<Long, byte[]> records, long offset, ByteBuffer src) {
        if (records.isEmpty()) return;
        long end = offset + src.remaining();
        Long from = records.floorKey(offset);
        for (Map.Entry<Long, byte[]> e : records.subMap(from == null ? offset : from, true, end, false).entrySet()) {
            long a = Math.max(e.getKey(), offset), b = Math.min(e.getKey() + e.getValue().length, end);
            if (a < b) src.get(src.position() + (int) (a - offset), e.getValue(), (int) (a - e.getKey()), (int) (b - a));
        }
    }

    /** Overlays the records on bytes read at {@code offset}. */
    private static void overlay(TreeMap<Long, byte[]> records, long offset, byte[] out) {
        if (records.isEmpty()) return;
        long end = offset + out.length;
        Long from = records.floorKey(offset);
        for (Map.Entry<Long, byte[]> e : records.subMap(from == null ? offset : from, true, end, false).entrySet()) {
            long a = Math.max(e.getKey(), offset), b = Math.min(e.getKey() + e.getValue().length, end);
            if (a < b) System.arraycopy(e.getValue(), (int) (a - e.getKey()), out, (int) (a - offset), (int) (b - a));
        }
    }

    /**
     * Writes the records in offset order. Records less than {@link #GAP} apart go out in one
     * write, the bytes between them read from the file (scattered L2 entries become whole-table
     * writes, as QEMU writes cached tables).
     */
    private void writeOut(TreeMap<Long, byte[]> records) throws IOException {
        while (!records.isEmpty()) {
            long start = records.firstKey();
            long end = start;
            boolean gaps = false;
            for (Map.Entry<Long, byte[]> e : records.entrySet()) {
                long recordEnd = e.getKey() + e.getValue().length;
                if (e.getKey() - end > GAP || (recordEnd - start > MAX_RUN && end > start)) break;
                gaps |= e.getKey() != end;
                end = Math.max(end, recordEnd);
            }
            byte[] run = new byte[(int) (end - start)];
            if (gaps) storage.readFully(start, ByteBuffer.wrap(run));
            Map<Long, byte[]> part = records.subMap(start, true, end, false);
            for (Map.Entry<Long, byte[]> e : part.entrySet()) {
                System.arraycopy(e.getValue(), 0, run, (int) (e.getKey() - start), e.getValue().length);
            }
            part.clear();
            storage.write(start, ByteBuffer.wrap(run));
            unflushed = true;
        }
    }
}
