package dev.qcow2.cli;

import dev.qcow2.create.CreateOptions;
import dev.qcow2.create.ImageCreator;
import dev.qcow2.create.OptionList;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.storage.WritableFileStorage;
import dev.qcow2.write.ClusterCompressor;
import dev.qcow2.write.Qcow2Writer;
import dev.qcow2.write.WriteOptions;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code qcow2 convert -O qcow2 [-c]}: a new standalone image with the source's virtual size and
 * the {@code -o} options, holding the source's guest-visible bytes, as qemu-img 7.2 writes it.
 * The new image reads zeros everywhere, so (qemu-img's has_zero_init case) ranges that read as
 * zero are not written: without -c every all-zero 4 KiB-aligned block is skipped (-S 4k) and a
 * cluster is allocated only when one of its blocks holds data; with -c an all-zero cluster is
 * skipped and every other cluster written compressed (uncompressed when that does not save a
 * byte). Chunks are read, and with -c compressed, on worker threads; the writes happen in order
 * on the calling thread.
 */
final class Qcow2ConvertOutput {
    private Qcow2ConvertOutput() { }

    static void convert(BlockDevice src, String out, String options, boolean compress,
                        ConvertCommand.Progress progress) throws Exception {
        OptionList list = new OptionList();
        if (options != null) list.add(options);
        if (list.get("backing_file") != null) {
            throw new Errors.CliException(out + ": -o backing_file is not supported by convert yet");
        }
        list.set("size", Long.toString(src.size()));
        Path path = Path.of(out);
        CreateOptions created = ImageCreator.validate(path, list);
        ImageCreator.create(path, created);
        try (Qcow2Writer writer = Qcow2Writer.open(new ConvertTargetStorage(WritableFileStorage.open(path)), path,
                WriteOptions.defaults())) {
            copy(src, writer, compress, progress);
        }
    }

    /**
     * A chunk of guest bytes and, with -c, its clusters compressed (null: did not fit; written
     * plain from the chunk, which stays alive until written anyway).
     */
    private record Packed(ConvertCommand.Chunk chunk, byte[][] clusters, boolean[] zero) { }

    private static void copy(BlockDevice src, Qcow2Writer writer, boolean compress,
                             ConvertCommand.Progress progress) throws Exception {
        long size = writer.size();
        int cs = writer.geometry().clusterSize();
        int threads = Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors()));
        ThreadLocal<byte[]> scratch = ThreadLocal.withInitial(() -> new byte[cs]);
        ThreadLocal<ClusterCompressor> compressors = ThreadLocal.withInitial(() -> ClusterCompressor.of(writer.compressionType()));
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "convert");
            t.setDaemon(true);
            return t;
        });
        try {
            ArrayDeque<Future<Packed>> inFlight = new ArrayDeque<>();
            ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
            byte[] plainBuffer = new byte[cs];
            long next = 0;
            while (next < size || !inFlight.isEmpty()) {
                while (next < size && inFlight.size() < threads * 2) {
                    long at = next;
                    int len = (int) Math.min(ConvertCommand.CHUNK, size - at);
                    ByteBuffer buf = free.isEmpty() ? ByteBuffer.allocateDirect(ConvertCommand.CHUNK) : free.pop();
                    inFlight.add(pool.submit(() -> {
                        ConvertCommand.Chunk c = ConvertCommand.Chunk.read(src, at, len, buf);
                        return compress ? pack(c, cs, compressors.get(), scratch.get()) : new Packed(c, null, null);
                    }));
                    next += len;
                }
                Packed p = Errors.unwrap(inFlight.poll());
                if (compress) writeCompressed(writer, p, cs, plainBuffer);
                else writeSparse(writer, p.chunk(), Math.max(cs, ConvertCommand.SPARSE_BLOCK));
                progress.update(p.chunk().offset() + p.chunk().length(), size);
                free.push(p.chunk().data());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Compresses each non-zero cluster of a chunk (the chunk starts on a cluster boundary). */
    private static Packed pack(ConvertCommand.Chunk c, int cs, ClusterCompressor compressor, byte[] cluster) {
        int n = (c.length() + cs - 1) / cs;
        byte[][] packed = new byte[n][];
        boolean[] zero = new boolean[n];
        for (int i = 0; i < n; i++) {
            int from = i * cs;
            int len = Math.min(cs, c.length() - from);
            zero[i] = ConvertCommand.Chunk.isZero(c.data(), from, len);
            if (zero[i]) continue;
            // a partial last cluster is compressed zero-padded to a whole cluster, as QEMU does
            c.data().get(from, cluster, 0, len);
            Arrays.fill(cluster, len, cs, (byte) 0);
            packed[i] = compressor.compress(cluster, cs - 1);
        }
        return new Packed(c, packed, zero);
    }

    private static void writeCompressed(Qcow2Writer writer, Packed p, int cs, byte[] buf) throws Exception {
        ConvertCommand.Chunk c = p.chunk();
        for (int i = 0; i < p.zero().length; i++) {
            if (p.zero()[i]) continue;
            int from = i * cs;
            int len = Math.min(cs, c.length() - from);
            byte[] plain = len == cs ? buf : new byte[len];   // written synchronously: reusable
            if (p.clusters()[i] == null) c.data().get(from, plain);
            writer.writePrecompressed(c.offset() + from, plain, p.clusters()[i]);
        }
    }

    /** Writes the runs of {@code block}-sized pieces that hold data; all-zero pieces stay unallocated. */
    private static void writeSparse(Qcow2Writer writer, ConvertCommand.Chunk c, int block) throws Exception {
        int len = c.length();
        int i = 0;
        while (i < len) {
            while (i < len && ConvertCommand.Chunk.isZero(c.data(), i, Math.min(block, len - i))) i += block;
            int start = Math.min(i, len);
            while (i < len && !ConvertCommand.Chunk.isZero(c.data(), i, Math.min(block, len - i))) i += block;
            int end = Math.min(i, len);
            if (end > start) writer.write(c.offset() + start, c.data().slice(start, end - start));
        }
    }
}
