package dev.qcow2.cli;

import dev.qcow2.create.CreateOptions;
import dev.qcow2.create.ImageCreator;
import dev.qcow2.create.OptionList;
import dev.qcow2.create.SizeParser;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code qcow2 create}: qemu-img create for qcow2, with qemu-img's options, its
 * "Formatting ..." line and its messages; the image is laid out byte for byte as qemu-img
 * 7.2 lays it out. Encryption is not supported yet.
 */
@Command(name = "create", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = "Create a qcow2 image, like qemu-img create -f qcow2 (same options, same layout).")
final class CreateCommand implements java.util.concurrent.Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "-f", paramLabel = "FMT", description = "Image format: qcow2 (the default here; qemu-img's default is raw).")
    String format = "qcow2";

    @Option(names = "-o", paramLabel = "OPTIONS", description = "key=value,... (size, compat, cluster_size, refcount_bits, "
            + "lazy_refcounts, extended_l2, compression_type, preallocation, backing_file, backing_fmt, data_file, "
            + "data_file_raw); -o help lists them.")
    List<String> options = new ArrayList<>();

    @Option(names = "-b", paramLabel = "BACKING", description = "Backing file (stored as given; relative to the image's directory).")
    String backing;

    @Option(names = "-F", paramLabel = "FMT", description = "Backing file format: qcow2 or raw.")
    String backingFormat;

    @Option(names = "-u", description = "Unsafe: do not open the backing file (SIZE is then required).")
    boolean unsafe;

    @Mixin QuietOption quiet;

    @Mixin ObjectOption objects;

    @Parameters(index = "0", paramLabel = "FILE", description = "The image to create (an existing file is overwritten).")
    String file;

    @Parameters(index = "1", paramLabel = "SIZE", arity = "0..1",
            description = "Virtual size in bytes, or with a k, M, G, T, P or E suffix (powers of 1024).")
    String size;

    @Override
    public Integer call() throws Exception {
        dev.qcow2.crypto.SecretObjects secrets = objects.secrets();
        for (String o : options) {
            if (o.equals("help") || o.equals("?")) {
                spec.commandLine().getOut().println(OptionList.HELP);
                return 0;
            }
        }
        long sizeBytes = -1;
        if (size != null) {
            sizeBytes = SizeParser.parse(size);
            if (sizeBytes < 0) {
                throw new Errors.CliException("Invalid image size specified. You may use k, M, G, T, P or E suffixes for "
                        + "kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
            }
        }
        if (!format.equals("qcow2")) {
            throw new Errors.CliException(file + ": creating '" + format + "' images is not supported (only qcow2)");
        }
        OptionList opts = new OptionList();
        try {
            for (String o : options) opts.add(o);
            if (backing != null) opts.set("backing_file", backing);
            if (backingFormat != null) opts.set("backing_fmt", backingFormat);
            if (sizeBytes >= 0) {
                if (opts.has("size")) throw new IllegalArgumentException("The image size must be specified only once");
                opts.set("size", Long.toString(sizeBytes));
            }
        } catch (IllegalArgumentException e) {
            throw new Errors.CliException(file + ": " + e.getMessage());
        }
        Path image = Path.of(file);
        ImageCreator.resolveBacking(image, opts, unsafe);
        if (!quiet.on) spec.commandLine().getOut().println("Formatting '" + file + "', fmt=qcow2 " + opts.formatted());
        String keySecret = opts.get("encrypt.key-secret");
        if (keySecret != null && secrets.byId(keySecret).isEmpty()) {
            // qcrypto_secret_lookup, as qemu-img reports it after "Formatting"
            throw new Errors.CliException(file + ": No secret with id '" + keySecret + "'");
        }
        CreateOptions validated = ImageCreator.validate(image, opts);
        ImageCreator.create(image, validated, secrets);
        return 0;
    }
}
