package dev.qcow2.convert;

import dev.qcow2.chain.Progress;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.image.RawImage;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * {@code qcow2 convert -O raw} and the DSL's {@code export raw: ...}: the guest-visible bytes,
 * byte-identical to qemu-img convert. A file target is written sparse (ranges that read as zero
 * and all-zero 4 KiB blocks are skipped, as qemu-img's default {@code -S 4k}) and sized to the
 * virtual size; a character device gets the same data ranges, a block device every byte.
 * Chunks are read (and decompressed) in parallel and written in order; chunks the source reports
 * as zero are neither read nor scanned ({@link ConvertChunks.Chunk#knownZero}).
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
        switch (TargetKind.of(out)) {
            case FILE -> {
                try (RandomAccessFile raf = new RandomAccessFile(out.toFile(), "rw")) {
                    raf.setLength(0);
                    raf.setLength(src.size());
                    copy(src, raf.getChannel(), out.toString(), null, progress, true);
                }
            }
            // A device cannot be truncated or hold holes. A character device (/dev/null, ...)
            // gets the data ranges only, at their offsets: writing 1 TiB of zeros to /dev/null
            // is all time and no content. A block device may hold old data: every byte is
            // written, zeros included, as qemu-img does to a target without zero-init.
            case CHARACTER_DEVICE -> {
                try (FileChannel ch = FileChannel.open(out, StandardOpenOption.WRITE)) {
                    copy(src, ch, out.toString(), null, progress, true);
                }
            }
            case BLOCK_DEVICE -> {
                try (FileChannel ch = FileChannel.open(out, StandardOpenOption.WRITE)) {
                    copy(src, ch, out.toString(), null, progress, false);
                }
            }
        }
    }

    /** What a raw target path is: a regular file (or none yet), or a device. */
    enum TargetKind {
        FILE, CHARACTER_DEVICE, BLOCK_DEVICE;

        private static final int S_IFMT = 0170000, S_IFCHR = 0020000, S_IFBLK = 0060000;

        static TargetKind of(Path out) throws IOException {
            if (!Files.exists(out) || Files.isRegularFile(out)) return FILE;
            int mode;
            try {
                mode = (Integer) Files.getAttribute(out, "unix:mode");
            } catch (UnsupportedOperationException | IllegalArgumentException e) {
                return FILE;
            }
            return switch (mode & S_IFMT) {
                case S_IFCHR -> CHARACTER_DEVICE;
                case S_IFBLK -> BLOCK_DEVICE;
                default -> FILE;
            };
        }
    }

    /**
     * Reads all of {@code src} and writes nothing: the sink of a copy whose bytes are discarded
     * ({@code convert -O raw FILE -} with standard output on /dev/null). Every allocated cluster
     * is still read, decompressed and decrypted, so read errors surface as they would.
     */
    public static void toNowhere(BlockDevice src, Progress progress) throws Exception {
        long size = src.size();
        ConvertChunks.copy(src, ConvertChunks.workers(!(src instanceof RawImage)), c -> null,
                (c, nothing) -> progress.update(c.offset() + c.length(), size));
    }

    /** Writes every guest byte, zeros included, to {@code stream} (not closed). */
    public static void toStream(BlockDevice src, OutputStream stream, Progress progress) throws Exception {
        copy(src, null, null, stream, progress, false);
        stream.flush();
    }

    /**
     * {@code sparse}: only the non-zero 4 KiB blocks are written to {@code ch} (the file {@code target});
     * else every byte. A failed write is one line naming the target ({@code /dev/full: write failed: No space left on device}).
     */
    private static void copy(BlockDevice src, FileChannel ch, String target, OutputStream stream, Progress progress,
                             boolean sparse) throws Exception {
        long size = src.size();
        byte[] out = stream == null ? null : new byte[ConvertChunks.CHUNK];
        // a qcow2 source may need decompressing: the workers' part; a raw one only reading
        int workers = ConvertChunks.workers(!(src instanceof RawImage));
        ConvertChunks.copy(src, workers, c -> stream != null ? null
                : sparse ? c.dataRuns(ConvertChunks.SPARSE_BLOCK) : new int[]{0, c.length()}, (c, runs) -> {
            if (stream != null) {
                c.data().get(0, out, 0, c.length());
                stream.write(out, 0, c.length());
            } else {
                // only the non-zero 4 KiB blocks (qemu-img convert -S 4k): the target is sparse
                for (int r = 0; r < runs.length; r += 2) {
                    ByteBuffer b = c.data().slice(runs[r], runs[r + 1] - runs[r]);
                    long pos = c.offset() + runs[r];
                    try {
                        while (b.hasRemaining()) pos += ch.write(b, pos);
                    } catch (java.io.IOException e) {
                        throw dev.qcow2.storage.Storage.failure(target, "write", e);
                    }
                }
            }
            progress.update(c.offset() + c.length(), size);
        });
    }
}
