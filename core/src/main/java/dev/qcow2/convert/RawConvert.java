package dev.qcow2.convert;

import dev.qcow2.chain.Progress;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.image.RawImage;

import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * {@code qcow2 convert -O raw} and the DSL's {@code export raw: ...}: the guest-visible bytes,
 * byte-identical to qemu-img convert. A file target is written sparse (ranges that read as zero
 * and all-zero 4 KiB blocks are skipped, as qemu-img's default {@code -S 4k}) and sized to the
 * virtual size. Chunks are read (and decompressed) in parallel and written in order.
 */
public final class RawConvert {
    private RawConvert() { }

    /**
     * Writes the source into {@code out} (created, or truncated first). It is sized first, as
     * qemu-img creates its raw target (ftruncate): the writes then fill a sparse file, and zero
     * ranges stay holes. {@code progress} is told guest bytes done, on the calling thread; an
     * exception it throws stops the copy.
     */
    public static void toFile(BlockDevice src, Path out, Progress progress) throws Exception {
        try (RandomAccessFile raf = new RandomAccessFile(out.toFile(), "rw")) {
            raf.setLength(0);
            raf.setLength(src.size());
            copy(src, raf.getChannel(), null, progress);
        }
    }

    /** Writes every guest byte, zeros included, to {@code stream} (not closed). */
    public static void toStream(BlockDevice src, OutputStream stream, Progress progress) throws Exception {
        copy(src, null, stream, progress);
        stream.flush();
    }

    private static void copy(BlockDevice src, FileChannel ch, OutputStream stream, Progress progress) throws Exception {
        long size = src.size();
        byte[] out = stream == null ? null : new byte[ConvertChunks.CHUNK];
        // a qcow2 source may need decompressing: the workers' part; a raw one only reading
        int workers = ConvertChunks.workers(!(src instanceof RawImage));
        ConvertChunks.copy(src, workers, c -> stream == null ? c.dataRuns(ConvertChunks.SPARSE_BLOCK) : null, (c, runs) -> {
            if (stream != null) {
                c.data().get(0, out, 0, c.length());
                stream.write(out, 0, c.length());
            } else {
                // only the non-zero 4 KiB blocks (qemu-img convert -S 4k): the target is sparse
                for (int r = 0; r < runs.length; r += 2) {
                    ByteBuffer b = c.data().slice(runs[r], runs[r + 1] - runs[r]);
                    long pos = c.offset() + runs[r];
                    while (b.hasRemaining()) pos += ch.write(b, pos);
                }
            }
            progress.update(c.offset() + c.length(), size);
        });
    }
}
