package dev.qcow2.cli;

import dev.qcow2.convert.Qcow2Convert;
import dev.qcow2.convert.RawConvert;
import dev.qcow2.image.BlockDevice;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;

/**
 * {@code qcow2 convert -O raw|qcow2}: the guest-visible bytes, as qemu-img convert writes them.
 * The copying is the core's ({@link RawConvert}, {@link Qcow2Convert}), shared with the DSL's
 * {@code export}; this command parses qemu-img's options and prints its progress line.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Write the guest-visible disk as a raw or qcow2 image, like qemu-img convert.")
final class ConvertCommand implements java.util.concurrent.Callable<Integer> {
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
                Qcow2Convert.convert(source, Path.of(out), options.isEmpty() ? null : String.join(",", options), compress, p::update);
            } else if (toStdout) {
                RawConvert.toStream(source, System.out, p::update);
            } else {
                RawConvert.toFile(source, Path.of(out), p::update);
            }
            p.done();
        }
        return 0;
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
