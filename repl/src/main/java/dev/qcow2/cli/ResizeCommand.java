package dev.qcow2.cli;

import dev.qcow2.create.Preallocation;
import dev.qcow2.resize.Resizer;
import dev.qcow2.write.Qcow2Writer;
import dev.qcow2.write.WriteOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code qcow2 resize [--shrink] [-f qcow2] [-q] FILE [+|-]SIZE}: qemu-img resize with its
 * checks, messages and exit codes, and {@code --preallocation=off|metadata|falloc|full} for the
 * grown area. As in qemu-img, the size is the
 * last argument and may start with '-' without {@code --}.
 */
@Command(name = "resize", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = {"Change the virtual size of a qcow2 image, as qemu-img resize.",
                "SIZE may be absolute or relative (+SIZE, -SIZE), with an optional suffix k, M, G, T, P or E.",
                "Shrinking needs --shrink and deletes all data past the new end."})
final class ResizeCommand implements Callable<Integer> {
    static final String SHRINK_WARNING = "warning: Shrinking an image will delete all data beyond the shrunken image's end. "
            + "Before performing such an operation, make sure there is no important data there.";

    @Spec CommandSpec spec;

    @Mixin FormatOption formatOption;

    @Option(names = "--shrink", description = "Allow the image to become smaller (data past the new end is lost).")
    boolean shrink;

    @Option(names = "--preallocation", paramLabel = "MODE", description = "How to allocate a grown area: off (default), metadata, falloc, full.")
    String preallocation;

    @Mixin QuietOption quiet;

    @Mixin ObjectOption objects;

    @Mixin ImageOptsOption imageOpts;

    @Mixin AllowBackingOption allow;

    @Parameters(paramLabel = "FILE [+|-]SIZE", arity = "0..*", description = "The image and its new size.")
    List<String> positional = new ArrayList<>();

    /** A size like "-1M" resembles an option; qemu-img takes it as the size, so do we. */
    @Unmatched
    List<String> unmatched = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        List<String> args = new ArrayList<>(positional);
        for (String u : unmatched) {
            if (u.length() > 1 && u.startsWith("-") && !u.startsWith("--")) args.add(u);
            else throw new Errors.CliException("resize: unknown option '" + u + "'");
        }
        if (args.size() < 2) throw new Errors.CliException(args.isEmpty() ? "Not enough arguments" : "Expecting image file name and size");
        if (args.size() > 2) throw new Errors.CliException("Expecting image file name and size");
        ImageArg image = objects.image(args.get(0), formatOption.value, imageOpts, spec.commandLine().getErr());
        String sizeArg = args.get(1);
        Preallocation mode = checkPreallocation();
        boolean preallocate = mode != Preallocation.OFF;
        int relative = sizeArg.startsWith("+") ? 1 : sizeArg.startsWith("-") ? -1 : 0;
        long n = SizeArg.parse(relative == 0 ? sizeArg : sizeArg.substring(1));
        String format = image.format();
        if (format != null && !format.equals("qcow2")) {
            throw new Errors.CliException("resize: only qcow2 images can be resized, not '" + format + "'");
        }
        try (Qcow2Writer writer = Qcow2Writer.open(image.path(), allow.apply(WriteOptions.defaults().withSecrets(image.lookup())))) {
            long current = writer.size();
            long total = relative == 0 ? n : current + n * relative;
            if (total <= 0) throw new Errors.CliException("New image size must be positive");
            // qemu-img resize refuses before its --shrink check: a preallocation mode needs growth
            if (preallocate && total <= current) throw new Errors.CliException("Preallocation can only be used for growing images");
            if (total < current && !shrink) {
                PrintWriter err = spec.commandLine().getErr();
                err.println("qcow2: Use the --shrink option to perform a shrink operation.");
                err.println("qcow2: " + SHRINK_WARNING);
                err.flush();
                return Errors.EXIT_ERROR;
            }
            Resizer.resize(writer, total, mode);
        }
        if (!quiet.on) {
            PrintWriter out = spec.commandLine().getOut();
            out.println("Image resized.");
            out.flush();
        }
        return 0;
    }

    /** The preallocation mode asked for (off when none); an unknown mode is refused as qemu-img does. */
    private Preallocation checkPreallocation() {
        if (preallocation == null) return Preallocation.OFF;
        return Preallocation.parse(preallocation)
                .orElseThrow(() -> new Errors.CliException("Invalid preallocation mode '" + preallocation + "'"));
    }
}
