package dev.qcow2.cli;

import dev.qcow2.image.BlockDevice;
import dev.qcow2.image.Qcow2Image;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

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
    @Spec CommandSpec spec;

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

    @Mixin ProgressOption progress;

    @Mixin QuietOption quiet;

    @Mixin ForceShareOption forceShare;

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
            PrintWriter text = spec.commandLine().getOut();
            ProgressLine p = progress.meter(quiet, toStdout ? spec.commandLine().getErr() : text);
            if (qcow2) {
                Qcow2ConvertOutput.convert(source, out, options.isEmpty() ? null : String.join(",", options), compress, p);
            } else if (toStdout) {
                // the image's bytes, not text: straight to the byte stream, after any text written before
                text.flush();
                PrintStream bytes = Streams.of(spec).out();
                copy(source, null, bytes, p);
                bytes.flush();
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

    private static void copy(BlockDevice src, FileChannel ch, OutputStream stream, ProgressLine progress) throws Exception {
        long size = src.size();
        byte[] out = stream == null ? null : new byte[ConvertChunks.CHUNK];
        // a qcow2 source may need decompressing: the workers' part; a raw one only reading
        int workers = ConvertChunks.workers(!(src instanceof dev.qcow2.image.RawImage));
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
