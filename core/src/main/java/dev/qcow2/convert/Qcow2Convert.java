package dev.qcow2.convert;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.chain.Progress;
import dev.qcow2.create.CreateOptions;
import dev.qcow2.crypto.SecretLookup;
import dev.qcow2.crypto.SecretObjects;
import dev.qcow2.create.ImageCreator;
import dev.qcow2.create.OptionList;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.storage.WritableOpener;
import dev.qcow2.write.ClusterCompressor;
import dev.qcow2.write.Qcow2Writer;
import dev.qcow2.write.WriteOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Arrays;

/**
 * {@code qcow2 convert -O qcow2 [-c]} and the DSL's {@code export ..., format: 'qcow2'}: a new standalone image with the source's virtual size and
 * the {@code -o} options, holding the source's guest-visible bytes, as qemu-img 7.2 writes it.
 * The new image reads zeros everywhere, so (qemu-img's has_zero_init case) ranges that read as
 * zero are not written: without -c every all-zero 4 KiB-aligned block is skipped (-S 4k) and a
 * cluster is allocated only when one of its blocks holds data; with -c an all-zero cluster is
 * skipped and every other cluster written compressed (uncompressed when that does not save a
 * byte). Chunks are read, and with -c compressed, on worker threads; the writes happen in order
 * on the calling thread.
 */
public final class Qcow2Convert {
    private Qcow2Convert() { }

    /**
     * Creates {@code out} (replacing a file of that name) with {@code options} (qemu-img create
     * -o syntax, comma-separated; null: the defaults) and the source's size, and copies the
     * source's guest bytes into it. {@code progress} is told guest bytes done, on the calling
     * thread; an exception it throws stops the copy.
     */
    public static void convert(BlockDevice src, Path out, String options, boolean compress,
                               Progress progress) throws Exception {
        convert(src, out, options, compress, SecretObjects.none(), progress);
    }

    /**
     * {@link #convert(BlockDevice, Path, String, boolean, Progress)} to a target that may be
     * encrypted ({@code -o encrypt.format=luks|aes,encrypt.key-secret=ID}): the target is created
     * with the secret {@code secrets} holds under ID, and every cluster is written encrypted.
     * Compression is refused with qemu-img's message before anything is created.
     */
    public static void convert(BlockDevice src, Path out, String options, boolean compress,
                               SecretObjects secrets, Progress progress) throws Exception {
        convert(src, out, options, compress, secrets, WritableOpener.FILES, progress);
    }

    /**
     * {@link #convert(BlockDevice, Path, String, boolean, SecretObjects, Progress)} with the new
     * file opened for the copy by {@code opener} (fault specs). A failed copy removes the target.
     */
    public static void convert(BlockDevice src, Path out, String options, boolean compress,
                               SecretObjects secrets, WritableOpener opener, Progress progress) throws Exception {
        OptionList list = new OptionList();
        if (options != null) list.add(options);
        if (list.get("backing_file") != null) {
            throw new Qcow2Exception(out.toString(), "-o backing_file is not supported by convert yet");
        }
        boolean encrypted = list.get("encrypt.format") != null || "on".equals(list.get("encryption"));
        if (encrypted && compress) {
            // qemu-img convert's own check (img_convert), before the target is created
            throw new Qcow2Exception(null, "Compression and encryption not supported at the same time");
        }
        list.set("size", Long.toString(src.size()));
        Path path = out;
        CreateOptions created = ImageCreator.validate(path, list);
        ImageCreator.create(path, created, secrets);
        String keyId = list.get("encrypt.key-secret");
        SecretLookup targetSecret = keyId == null ? SecretLookup.none() : SecretLookup.byId(secrets.asMap(), Map.of(0, keyId));
        try {
            try (Qcow2Writer writer = Qcow2Writer.open(new ConvertTargetStorage(opener.open(path)), path,
                    WriteOptions.defaults().withSecrets(targetSecret))) {
                copy(src, writer, compress, progress);
            }
        } catch (Exception | Error e) {
            // A failed copy (a disk error, a bad source cluster, a cancel) removes the half-written
            // target: written without flushes or ordering (cache=unsafe, ConvertTargetStorage), it
            // may name clusters whose bytes never arrived. qemu-img convert 7.2 leaves it; it is
            // never worth keeping, and the name was ours to replace.
            try {
                if (Files.isRegularFile(path)) Files.delete(path);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** With -c, a chunk's clusters compressed (null: did not fit; written plain from the chunk) and which are all zero. */
    private record Packed(byte[][] clusters, boolean[] zero) { }

    private static void copy(BlockDevice src, Qcow2Writer writer, boolean compress,
                             Progress progress) throws Exception {
        long size = writer.size();
        int cs = writer.geometry().clusterSize();
        if (compress) {
            ThreadLocal<byte[]> scratch = ThreadLocal.withInitial(() -> new byte[cs]);
            ThreadLocal<ClusterCompressor> compressors = ThreadLocal.withInitial(() -> ClusterCompressor.of(writer.compressionType()));
            byte[] plainBuffer = new byte[cs];
            ConvertChunks.copy(src, ConvertChunks.workers(true), c -> pack(c, cs, compressors.get(), scratch.get()), (c, packed) -> {
                writeCompressed(writer, c, packed, cs, plainBuffer);
                progress.update(c.offset() + c.length(), size);
            });
        } else {
            // the runs of non-zero blocks are found on the worker threads; this thread only writes
            int block = Math.max(cs, ConvertChunks.SPARSE_BLOCK);
            // a qcow2 source may need decompressing: the workers' part; a raw one only reading
            int workers = ConvertChunks.workers(!(src instanceof dev.qcow2.image.RawImage));
            ConvertChunks.copy(src, workers, c -> c.dataRuns(block), (c, runs) -> {
                for (int r = 0; r < runs.length; r += 2) {
                    writer.write(c.offset() + runs[r], c.data().slice(runs[r], runs[r + 1] - runs[r]));
                }
                progress.update(c.offset() + c.length(), size);
            });
        }
    }

    /** Compresses each non-zero cluster of a chunk (the chunk starts on a cluster boundary). */
    private static Packed pack(ConvertChunks.Chunk c, int cs, ClusterCompressor compressor, byte[] cluster) {
        int n = (c.length() + cs - 1) / cs;
        byte[][] packed = new byte[n][];
        boolean[] zero = new boolean[n];
        for (int i = 0; i < n; i++) {
            int from = i * cs;
            int len = Math.min(cs, c.length() - from);
            zero[i] = c.isZero(from, len);
            if (zero[i]) continue;
            // a partial last cluster is compressed zero-padded to a whole cluster, as QEMU does
            c.data().get(from, cluster, 0, len);
            Arrays.fill(cluster, len, cs, (byte) 0);
            packed[i] = compressor.compress(cluster, cs - 1);
        }
        return new Packed(packed, zero);
    }

    private static void writeCompressed(Qcow2Writer writer, ConvertChunks.Chunk c, Packed p, int cs, byte[] buf) throws Exception {
        for (int i = 0; i < p.zero().length; i++) {
            if (p.zero()[i]) continue;
            int from = i * cs;
            int len = Math.min(cs, c.length() - from);
            byte[] plain = len == cs ? buf : new byte[len];   // written synchronously: reusable
            if (p.clusters()[i] == null) c.data().get(from, plain);
            writer.writePrecompressed(c.offset() + from, plain, p.clusters()[i]);
        }
    }
}
