package dev.qcow2.cli;

import dev.qcow2.amend.AmendOptions;
import dev.qcow2.amend.Amender;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code qcow2 amend [-f qcow2] [-p] [-q] [--force] -o OPTIONS FILE}: qemu-img amend for qcow2
 * (compat, refcount_bits, lazy_refcounts, size; backing_file/backing_fmt only as they are),
 * with its checks, messages and exit codes. Prints nothing on success; {@code -o help} lists
 * the options that can be amended.
 */
@Command(name = "amend", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = {"Change the options of an existing qcow2 image, as qemu-img amend.",
                "Options: compat (v2/0.10 or v3/1.1; a downgrade turns zero clusters into data clusters), "
                        + "refcount_bits (1-64), lazy_refcounts, size; -o help lists them."})
final class AmendCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "-o", paramLabel = "OPTIONS", description = "key=value,... to change (repeatable); -o help lists them.")
    List<String> options = new ArrayList<>();

    @Mixin FormatOption formatOption;

    @Mixin ProgressOption progress;

    @Mixin QuietOption quiet;

    @Option(names = "--force", description = "Accepted for qemu-img compatibility (only matters for encryption keyslots).")
    boolean force;

    @Mixin CacheOption cache;

    @Mixin ObjectOption objects;

    @Mixin ImageOptsOption imageOpts;

    @Mixin AllowBackingOption allow;

    @Parameters(paramLabel = "FILE", arity = "0..*", description = "The image to amend.")
    List<String> files = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        for (String o : options) {
            if (!validOptionList(o)) throw new Errors.CliException("Invalid option list: " + o);
        }
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        if (options.isEmpty()) {
            err.println("qcow2: Must specify options (-o)");
            err.println("Try 'qcow2 amend --help' for more information.");
            err.flush();
            return Errors.EXIT_ERROR;
        }
        String format = formatOption.value;
        boolean help = AmendOptions.wantsHelp(options);
        if (help && format != null) return printHelp(out);
        if (files.size() != 1) throw new Errors.CliException("Expecting one image file name");
        ImageArg image = objects.image(files.get(0), format, imageOpts, err);
        format = image.format();
        Path path = image.path();
        if (!Files.exists(path)) throw new NoSuchFileException(image.file());
        if (format != null && !format.equals("qcow2")) {
            throw new Errors.CliException("Format driver '" + format + "' does not support option amendment");
        }
        if (help) return printHelp(out);
        ProgressLine line = progress.start(quiet, out);
        try {
            AmendOptions parsed = AmendOptions.parse(options);
            // a key given in the image options must unlock the image, as qemu-img's open checks it
            if (image.hasSecrets()) ImageOpener.open(image, dev.qcow2.image.OpenOptions.defaults()).close();
            Amender.amend(path, parsed, objects.secrets(), image.lookup(), allow.policy());
        } catch (AmendOptions.OptionException e) {
            return fail(err, e.getMessage(), e.hint());
        } catch (Amender.BackingChangeException e) {
            return fail(err, e.getMessage(), e.hint());
        }
        line.done();
        return 0;
    }

    private static int fail(PrintWriter err, String message, String hint) {
        err.println("qcow2: " + message);
        if (hint != null) err.println(hint);
        err.flush();
        return Errors.EXIT_ERROR;
    }

    private static int printHelp(PrintWriter out) {
        out.println(AmendOptions.HELP);
        out.flush();
        return 0;
    }

    /** qemu-img's is_valid_option_list: not empty, not starting with ',', no unpaired trailing ','. */
    static boolean validOptionList(String s) {
        if (s.isEmpty() || s.charAt(0) == ',') return false;
        int i = s.length();
        while (i > 0 && s.charAt(i - 1) == ',') i--;
        return (s.length() - i) % 2 == 0;
    }
}
