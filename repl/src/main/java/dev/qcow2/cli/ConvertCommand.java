package dev.qcow2.cli;

import dev.qcow2.image.OpenOptions;
import dev.qcow2.convert.Qcow2Convert;
import dev.qcow2.convert.RawConvert;
import dev.qcow2.image.BlockDevice;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code qcow2 convert -O raw|qcow2}: the guest-visible bytes, as qemu-img convert writes them.
 * The copying is the core's ({@link RawConvert}, {@link Qcow2Convert}), shared with the DSL's
 * {@code export}; this command parses qemu-img's options and prints its progress line.
 */
@Command(name = "convert", addMethodSubcommands = false, mixinStandardHelpOptions = true,
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

    @Option(names = "--bitmaps", description = "Copy the source's persistent bitmaps to the qcow2 target (as qemu-img convert --bitmaps).")
    boolean bitmaps;

    @Option(names = "--skip-broken-bitmaps", description = "With --bitmaps: skip in-use (inconsistent) bitmaps with a warning instead of failing.")
    boolean skipBrokenBitmaps;

    @Mixin ProgressOption progress;

    @Mixin QuietOption quiet;

    @Mixin ForceShareOption forceShare;

    @Mixin ObjectOption objects;

    @Mixin ImageOptsOption imageOpts;

    @Mixin TolerantOption tolerant;

    @Mixin AllowBackingOption allow;

    @Parameters(index = "0", paramLabel = "FILE", description = "The source image.")
    String file;

    @Parameters(index = "1", paramLabel = "OUT", description = "The output file, or - for stdout (raw); a character device such as /dev/null gets the data ranges only.")
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
        if (skipBrokenBitmaps && !bitmaps) throw new Errors.CliException("Use of --skip-broken-bitmaps requires --bitmaps");
        ImageArg input = objects.image(file, format, imageOpts, spec.commandLine().getErr());
        forceShare.refuseBesideWriter(input);
        String targetOptions = options.isEmpty() ? null : String.join(",", options);
        try (BlockDevice image = ImageOpener.open(input, allow.apply(tolerant.apply(OpenOptions.permissive())))) {
            TolerantOption.reportIgnored(image, spec.commandLine().getErr());
            List<BitmapCopy.Source> copied = bitmaps ? BitmapCopy.check(image, skipBrokenBitmaps, qcow2, options) : List.of();
            BlockDevice source = snapshot == null ? image : SnapshotSpec.open(image, file, snapshot);
            boolean toStdout = out.equals("-");
            PrintWriter text = spec.commandLine().getOut();
            ProgressLine p = progress.meter(quiet, toStdout ? spec.commandLine().getErr() : text);
            if (qcow2) {
                if (EncryptedConvertTarget.wanted(targetOptions)) {
                    EncryptedConvertTarget.convert(source, Path.of(out), targetOptions, compress, objects.secrets(), p::update);
                } else {
                    Qcow2Convert.convert(source, Path.of(out), targetOptions, compress, p::update);
                }
                for (BitmapCopy.Source skipped : copied) {
                    if (skipped.skip()) spec.commandLine().getErr().println("qcow2: warning: Skipping inconsistent bitmap '" + skipped.name() + "'");
                }
                spec.commandLine().getErr().flush();
                if (bitmaps) BitmapCopy.copy((dev.qcow2.image.Qcow2Image) image, copied, Path.of(out));
            } else if (toStdout) {
                // the image's bytes, not text: straight to the byte stream, after any text written before
                text.flush();
                PrintStream bytes = Streams.of(spec).out();
                if (bytes == System.out && stdoutIsNullDevice()) {
                    // `convert -O raw FILE - > /dev/null`: read everything, write nothing
                    RawConvert.toNowhere(source, p::update);
                } else {
                    RawConvert.toStream(source, bytes, p::update);
                }
                bytes.flush();
            } else {
                RawConvert.toFile(source, Path.of(out), p::update);
            }
            p.done();
        }
        return 0;
    }

    /** Whether the process's standard output is /dev/null (Linux: /proc/self/fd/1 links to it). */
    private static boolean stdoutIsNullDevice() {
        try {
            return java.nio.file.Files.readSymbolicLink(Path.of("/proc/self/fd/1")).equals(Path.of("/dev/null"));
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }
}
