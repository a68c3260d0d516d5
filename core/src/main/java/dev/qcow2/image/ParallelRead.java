package dev.qcow2.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;

/**
 * One large guest read spread over the cores: the range is cut at cluster boundaries into one
 * piece per core, the calling thread reads the first and a shared pool of daemon threads the
 * others. Compressed clusters then decompress on every core, and the page-cache copies of plain
 * clusters run side by side (a single 4 MiB request, as {@code bench -d 1 -s 4M} or a
 * whole-disk reader makes them, used one core before). The caller also runs any piece no pool
 * thread has started yet, so a busy pool (several callers at once, the convert workers) costs
 * nothing but the split itself and can never deadlock. The read returns only when every piece
 * is done, whatever happened: the pieces write into the caller's array.
 */
final class ParallelRead {
    /** Requests shorter than this are read on the calling thread (a split costs ~10 µs). */
    static final int MIN_LENGTH = 1 << 20;
    /** No piece shorter than this. */
    private static final int MIN_PIECE = 256 << 10;

    private static final int CORES = Runtime.getRuntime().availableProcessors();

    /** Pool threads: one fewer than the cores (the caller is the last), created on first use. */
    private static final class Pool {
        static final ExecutorService THREADS = Executors.newFixedThreadPool(Math.max(1, CORES - 1), r -> {
            Thread t = new Thread(r, "qcow2-read");
            t.setDaemon(true);
            return t;
        });
    }

    /** A read of guest bytes into an array (LayerReader.read). */
    interface Reader {
        void read(long guestOffset, byte[] buf, int bufOffset, int length) throws IOException;
    }

    private ParallelRead() { }

    /** Whether a read of {@code length} bytes is worth splitting on this machine. */
    static boolean worthIt(int length) {
        return CORES > 1 && length >= MIN_LENGTH && !"false".equals(System.getProperty("qcow2.parallelRead"));
    }

    /**
     * Reads {@code [guestOffset, guestOffset + length)} into {@code buf} at {@code bufOffset} in
     * pieces cut at multiples of {@code clusterSize} (a cluster is never split between two
     * threads, so none is decompressed twice).
     */
    static void read(Reader reader, long guestOffset, byte[] buf, int bufOffset, int length, int clusterSize)
            throws IOException {
        int pieces = Math.max(1, Math.min(CORES, length / MIN_PIECE));
        long end = guestOffset + length;
        long[] cuts = new long[pieces + 1];
        cuts[0] = guestOffset;
        cuts[pieces] = end;
        int n = 1;
        for (int i = 1; i < pieces; i++) {
            long cut = (guestOffset + (long) length * i / pieces) / clusterSize * clusterSize;
            if (cut > cuts[n - 1] && cut < end) cuts[n++] = cut;
        }
        cuts[n] = end;
        if (n == 1) {
            reader.read(guestOffset, buf, bufOffset, length);
            return;
        }
        @SuppressWarnings("unchecked")
        FutureTask<Void>[] others = new FutureTask[n - 1];
        for (int i = 1; i < n; i++) {
            long from = cuts[i], to = cuts[i + 1];
            int at = bufOffset + (int) (from - guestOffset);
            others[i - 1] = new FutureTask<>(() -> {
                reader.read(from, buf, at, (int) (to - from));
                return null;
            });
            Pool.THREADS.execute(others[i - 1]);
        }
        Throwable failure = null;
        try {
            reader.read(cuts[0], buf, bufOffset, (int) (cuts[1] - cuts[0]));
        } catch (IOException | RuntimeException | Error e) {
            failure = e;
        }
        // pieces no pool thread has taken yet run here (FutureTask runs once, whoever calls it)
        for (FutureTask<Void> t : others) t.run();
        boolean interrupted = false;
        for (FutureTask<Void> t : others) {
            while (true) {
                try {
                    t.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;   // the pieces write into buf: wait for them all the same
                } catch (ExecutionException e) {
                    if (failure == null) failure = e.getCause();
                    break;
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        switch (failure) {
            case null -> { }
            case IOException e -> throw e;
            case RuntimeException e -> throw e;
            case Error e -> throw e;
            default -> throw new UncheckedIOException(new IOException(failure));
        }
    }
}
