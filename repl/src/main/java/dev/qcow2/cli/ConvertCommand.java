package dev.qcow2.cli;

import dev.qcow2.image.BlockDevice;
import dev.qcow2.image.Qcow2Image;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code qcow2 convert -O raw}: the guest-visible bytes, byte-identical to qemu-img convert.
 * ({@code -O qcow2} is {@link Qcow2ConvertOutput}.)
 * The target file is written sparse (ranges that read as zero and all-zero 4 KiB blocks are
 * skipped, as qemu-img's default {@code -S 4k}) and sized to the virtual size. Chunks are read
 * (and decompressed) in parallel and written in order.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Write the guest-visible disk as a raw or qcow2 image, like qemu-img convert.")
final class ConvertCommand implements java.util.concurrent.Callable<Integer> {
    static final int CHUNK = 4 << 20;
    static final int SPARSE_BLOCK = 4096;

    @Option(names = {"-O", "--target-format"}, paramLabel = "FMT", description = "Output format: raw (default) or qcow2.")
    String targetFormat = "raw";

    @Option(names = {"-c"}, description = "Compress the qcow2 target (compression_type of -o: zlib or zstd).")
    boolean compress;

    @Option(names = {"-o"}, paramLabel = "OPTIONS", description = "qcow2 create options for the target (as qcow2 create -o).")
    java.util.List<String> options = new java.util.ArrayList<>();

    @Option(names = {"-f", "--source-format"}, paramLabel = "FMT", description = "Source format: qcow2 or raw (default: probed).")
    String format;

    @Option(names = {"-l", "--snapshot"}, paramLabel = "SNAPSHOT",
            description = "Export an internal snapshot: ID or name, or snapshot.id=ID[,snapshot.name=NAME].")
    String snapshot;

    @Option(names = {"-p", "--progress"}, description = "Show progress (on stderr when writing to stdout).")
    boolean progress;

    @Option(names = {"-q", "--quiet"}, description = "Quiet: no progress.")
    boolean quiet;

    @Option(names = {"-U", "--force-share"}, description = "Accepted for qemu-img compatibility.")
    boolean forceShare;

    @Parameters(index = "0", paramLabel = "FILE", description = "The source image.")
    String file;

    @Parameters(index = "1", paramLabel = "OUT", description = "The raw output file, or - for stdout.")
    String out;

    @Override
    public Integer call() throws Exception {
        if (!targetFormat.equals("raw") && !targetFormat.equals("qcow2")) {
            throw new Errors.CliException("Unknown file format '" + targetFormat + "'");
        }
        boolean qcow2 = targetFormat.equals("qcow2");
        if (compress && !qcow2) throw new Errors.CliException("Compression not supported for this file format");
        if (!options.isEmpty() && !qcow2) throw new Errors.CliException("convert: -o options apply to -O qcow2 only");
        if (qcow2 && out.equals("-")) throw new Errors.CliException("convert: -O qcow2 cannot be written to stdout");
        try (BlockDevice image = ImageOpener.open(file, format)) {
            BlockDevice source = snapshot == null ? image : SnapshotSpec.open(image, file, snapshot);
            boolean toStdout = out.equals("-");
            Progress p = new Progress(progress && !quiet, toStdout ? System.err : System.out);
            if (qcow2) {
                Qcow2ConvertOutput.convert(source, out, options.isEmpty() ? null : String.join(",", options), compress, p);
            } else if (toStdout) {
                copy(source, null, System.out, p);
                System.out.flush();
            } else {
                // Sized first, as qemu-img creates its raw target (ftruncate): the writes then fill a
                // sparse file, and zero ranges stay holes.
                try (RandomAccessFile raf = new RandomAccessFile(out, "rw")) {
                    raf.setLength(0);
                    raf.setLength(source.size());
                    copy(source, raf.getChannel(), null, p);
                }
            }
            p.done();
        }
        return 0;
    }

    private static void copy(BlockDevice src, FileChannel ch, OutputStream stream, Progress progress) throws Exception {
        long size = src.size();
        int threads = Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors()));
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "convert");
            t.setDaemon(true);
            return t;
        });
        try {
            ArrayDeque<Future<Chunk>> inFlight = new ArrayDeque<>();
            // Chunk buffers are recycled: allocating (and zeroing) 4 MiB per chunk costs more than the copy.
            ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
            byte[] out = stream == null ? null : new byte[CHUNK];
            long next = 0;
            while (next < size || !inFlight.isEmpty()) {
                while (next < size && inFlight.size() < threads * 2) {
                    long at = next;
                    int len = (int) Math.min(CHUNK, size - at);
                    ByteBuffer buf = free.isEmpty() ? ByteBuffer.allocateDirect(CHUNK) : free.pop();
                    inFlight.add(pool.submit(() -> Chunk.read(src, at, len, buf)));
                    next += len;
                }
                Chunk c = Errors.unwrap(inFlight.poll());
                if (stream != null) {
                    c.data.get(0, out, 0, c.length);
                    stream.write(out, 0, c.length);
                } else {
                    c.writeSparse(ch);
                }
                progress.update(c.offset + c.length, size);
                free.push(c.data);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** A direct buffer of zeros as long as a chunk: the reference for zero checks and the source of zero fills. */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(CHUNK).asReadOnlyBuffer();

    /** Per reader thread: room for one chunk of a source that is not a raw file. */
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[CHUNK]);

    /**
     * One chunk of guest bytes in a direct buffer (read by the kernel straight into it, and
     * written from it, with no copy through the Java heap); ranges the chain reports as zero
     * are not read at all.
     */
    record Chunk(long offset, ByteBuffer data, int length) {
        static Chunk read(BlockDevice src, long offset, int length, ByteBuffer buf) throws IOException {
            dev.qcow2.image.ChainMap map = new dev.qcow2.image.ChainMap(false);
            long pos = offset;
            long end = offset + length;
            while (pos < end) {
                dev.qcow2.image.MapEntry e = map.status(src, pos, end - pos);
                int at = (int) (pos - offset);
                int n = (int) e.length();
                if (e.zero()) buf.put(at, ZEROS, 0, n);
                else if (src instanceof dev.qcow2.image.RawImage) src.read(pos, buf.slice(at, n));
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

        /** Writes the non-zero 4 KiB blocks (qemu-img convert -S 4k). */
        void writeSparse(FileChannel ch) throws IOException {
            int i = 0;
            while (i < length) {
                while (i < length && isZero(i)) i = blockEnd(i);
                int start = i;
                while (i < length && !isZero(i)) i = blockEnd(i);
                if (i > start) {
                    ByteBuffer b = data.slice(start, i - start);
                    long pos = offset + start;
                    while (b.hasRemaining()) pos += ch.write(b, pos);
                }
            }
        }

        private int blockEnd(int i) { return Math.min(length, (i / SPARSE_BLOCK + 1) * SPARSE_BLOCK); }

        private boolean isZero(int i) { return isZero(data, i, blockEnd(i) - i); }

        /** Whether {@code len} bytes at {@code from} are all zero (len at most a chunk). */
        static boolean isZero(ByteBuffer data, int from, int len) {
            // ByteBuffer.mismatch is vectorized: much faster than a byte loop
            return data.slice(from, len).mismatch(ZEROS.slice(0, len)) < 0;
        }
    }

    /** qemu-img's progress line: {@code "    (xx.xx/100%)\r"}. */
    static final class Progress {
        private final boolean on;
        private final java.io.PrintStream out;
        private double last = -1;

        Progress(boolean on, java.io.PrintStream out) {
            this.on = on;
            this.out = out;
        }

        void update(long done, long total) {
            if (!on) return;
            double pct = total == 0 ? 100 : done * 100.0 / total;
            if (pct - last < 1 && pct < 100) return;
            last = pct;
            out.printf("    (%.2f/100%%)\r", pct);
            out.flush();
        }

        void done() {
            if (!on) return;
            update(1, 1);
            out.print("\n");
            out.flush();
        }
    }
}
