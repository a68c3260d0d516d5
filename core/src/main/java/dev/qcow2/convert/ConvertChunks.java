package dev.qcow2.convert;

import dev.qcow2.image.BlockDevice;
import dev.qcow2.image.ChainMap;
import dev.qcow2.image.MapEntry;
import dev.qcow2.image.RawImage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The source side of a convert: the guest bytes in chunks of {@link #CHUNK}, each read and then
 * prepared (zero-scanned, compressed, ...) on a worker thread, ahead of the caller, and handed
 * to the caller in guest order to be written.
 *
 * <p>Chunks are read into recycled direct buffers (the kernel fills them and writes from them
 * with no copy through the Java heap); ranges a qcow2 chain reports as zero are not read at all.
 * A buffer is reused only after the caller's write of its chunk has returned. (Memory-mapping a
 * raw source instead saved its copy but no measurable time, 2 GiB and 4 GiB alike: the copy
 * happens on the workers, beside the write; and a source truncated meanwhile would fault the
 * JVM instead of failing a read.)
 */
public final class ConvertChunks {
    public static final int CHUNK = 4 << 20;
    /** qemu-img convert's default -S: all-zero blocks of this size are not written. */
    public static final int SPARSE_BLOCK = 4096;

    /** A direct buffer of zeros as long as a chunk: the reference for zero checks and the source of zero fills. */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(CHUNK).asReadOnlyBuffer();

    /** Per reader thread: room for one chunk of a source that is not a raw file. */
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[CHUNK]);

    private ConvertChunks() { }

    /** Work on a chunk in a worker thread. */
    public interface Prepare<T> { T apply(Chunk chunk) throws Exception; }

    /** Work on a chunk and its prepared value in the caller's thread, in guest order. */
    public interface Write<T> { void accept(Chunk chunk, T prepared) throws Exception; }

    /**
     * One chunk of guest bytes: {@code data} holds them at positions 0 to length.
     * {@code knownZero}: the source's block status reported the whole chunk zero (unallocated,
     * or zero clusters), so nothing was read, and {@code data} is a read-only view of zeros: a
     * sparse copy skips it without scanning (a 1 TiB empty image is 262144 such chunks).
     */
    public record Chunk(long offset, ByteBuffer data, int length, boolean knownZero) {
        public Chunk(long offset, ByteBuffer data, int length) { this(offset, data, length, false); }

        /** Whether {@code len} bytes at {@code from} are all zero (len at most a chunk). */
        public boolean isZero(int from, int len) {
            if (knownZero) return true;
            // ByteBuffer.mismatch is vectorized: much faster than a byte loop
            return data.slice(from, len).mismatch(ZEROS.slice(0, len)) < 0;
        }

        /**
         * The runs of {@code block}-sized pieces (from the chunk's start; the last may be short)
         * that hold a non-zero byte, as start/end pairs: what a sparse copy writes.
         */
        public int[] dataRuns(int block) {
            if (knownZero) return new int[0];
            int[] runs = new int[8];
            int n = 0;
            int i = 0;
            while (i < length) {
                while (i < length && isZero(i, Math.min(block, length - i))) i += block;
                int start = Math.min(i, length);
                while (i < length && !isZero(i, Math.min(block, length - i))) i += block;
                int end = Math.min(i, length);
                if (end > start) {
                    if (n + 2 > runs.length) runs = java.util.Arrays.copyOf(runs, runs.length * 2);
                    runs[n++] = start;
                    runs[n++] = end;
                }
            }
            return java.util.Arrays.copyOf(runs, n);
        }
    }

    /**
     * How many workers a copy gets: one per core when their work is the bottleneck (compressing,
     * or decompressing a qcow2 source), else one core is left to the writing thread. Buffered
     * writes to one file run on one core at a time, and a second worker that only reads and
     * scans competes with them for it: on 2 cores, convert -O qcow2 of a 2 GiB raw file took
     * 0.63 s with two workers and 0.58 s with one (fastest of 7; qemu-img 0.53 s).
     */
    public static int workers(boolean heavyPreparation) {
        int cores = Runtime.getRuntime().availableProcessors();
        return Math.max(1, Math.min(8, heavyPreparation ? cores : cores - 1));
    }

    /**
     * Reads all of {@code src} chunk by chunk: {@code prepare} on {@code threads} worker threads
     * (two chunks in flight per worker), {@code write} on this thread in guest order.
     */
    public static <T> void copy(BlockDevice src, int threads, Prepare<T> prepare, Write<T> write) throws Exception {
        long size = src.size();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "convert");
            t.setDaemon(true);
            return t;
        });
        record Prepared<T>(Chunk chunk, T value, ByteBuffer buffer) { }
        try {
            ArrayDeque<Future<Prepared<T>>> inFlight = new ArrayDeque<>();
            // Read buffers are recycled: allocating (and zeroing) 4 MiB per chunk costs more than the copy.
            ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
            long next = 0;
            while (next < size || !inFlight.isEmpty()) {
                while (next < size && inFlight.size() < threads * 2) {
                    long at = next;
                    int len = (int) Math.min(CHUNK, size - at);
                    ByteBuffer buf = free.isEmpty() ? ByteBuffer.allocateDirect(CHUNK) : free.pop();
                    inFlight.add(pool.submit(() -> {
                        Chunk c = read(src, at, len, buf);
                        return new Prepared<>(c, prepare.apply(c), buf);
                    }));
                    next += len;
                }
                Prepared<T> p = unwrap(inFlight.poll());
                write.accept(p.chunk(), p.value());
                free.push(p.buffer());   // the write has returned: the buffer is free
            }
        } finally {
            // The workers are not interrupted, only left to finish the reads they started (two
            // chunks each at most): a thread interrupted inside a FileChannel read closes the
            // channel (ClosedByInterruptException), and the source may be an image its caller
            // goes on using (the DSL's session after a cancelled export).
            pool.shutdown();
            boolean interrupted = false;
            while (true) {
                try {
                    if (pool.awaitTermination(1, TimeUnit.MINUTES)) break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /** The value of a finished task, with the task's own exception rethrown as is. */
    private static <T> T unwrap(Future<T> f) throws Exception {
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof Exception ex) throw ex;
            if (c instanceof Error err) throw err;
            throw e;
        }
    }

    private static Chunk read(BlockDevice src, long offset, int length, ByteBuffer buf) throws IOException {
        ChainMap map = new ChainMap(false);
        long pos = offset;
        long end = offset + length;
        MapEntry first = map.status(src, pos, length);
        if (first.zero() && first.length() >= length) return new Chunk(offset, ZEROS.slice(0, length), length, true);
        while (pos < end) {
            MapEntry e = pos == offset ? first : map.status(src, pos, end - pos);
            int at = (int) (pos - offset);
            int n = (int) e.length();
            if (e.zero()) buf.put(at, ZEROS, 0, n);
            else if (src instanceof RawImage) src.read(pos, buf.slice(at, n));
            else readVia(SCRATCH.get(), src, pos, buf, at, n);
            pos += n;
        }
        return new Chunk(offset, buf, length);
    }

    /** A qcow2 source decodes into a heap array: read there, then copied into the chunk. */
    private static void readVia(byte[] scratch, BlockDevice src, long pos, ByteBuffer buf, int at, int n) throws IOException {
        src.read(pos, scratch, 0, n);
        buf.put(at, scratch, 0, n);
    }
}
