package dev.qcow2.cli;

import dev.qcow2.create.ImageMeasure;
import dev.qcow2.create.OptionList;
import dev.qcow2.create.SizeParser;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.image.Qcow2Image;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code qcow2 measure}: qemu-img measure, the file size an image needs for a virtual size
 * ({@code --size}) or to hold an existing image's data, for a raw or qcow2 target.
 */
@Command(name = "measure", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = "Calculate the file size a new image needs, like qemu-img measure.")
final class MeasureCommand implements java.util.concurrent.Callable<Integer> {

    @Spec CommandSpec spec;

    @Mixin OutputOption output;

    @Option(names = "-O", paramLabel = "FMT", description = "Target format: raw (default) or qcow2.")
    String targetFormat = "raw";

    @Option(names = "-o", paramLabel = "OPTIONS", description = "Target creation options (as for create); -o help lists them.")
    List<String> options = new ArrayList<>();

    @Option(names = "--size", paramLabel = "N", description = "Measure a new image of this virtual size.")
    String size;

    @Option(names = "-f", paramLabel = "FMT", description = "Source format: qcow2 or raw (default: probed).")
    String format;

    @Option(names = "-l", paramLabel = "SNAPSHOT", description = "Measure an internal snapshot of FILE (ID or name).")
    String snapshot;

    @Mixin ForceShareOption forceShare;

    @Mixin ObjectOption objects;

    @Mixin ImageOptsOption imageOpts;

    @Mixin AllowBackingOption allow;

    @Parameters(index = "0", arity = "0..1", paramLabel = "FILE", description = "The image to measure.")
    String file;

    @Override
    public Integer call() throws Exception {
        for (String o : options) {
            if (o.equals("help") || o.equals("?")) {
                spec.commandLine().getOut().println(OptionList.HELP);
                return 0;
            }
        }
        if (file != null && size != null) throw new Errors.CliException("--size N cannot be used together with a filename.");
        if (file == null && size == null) throw new Errors.CliException("Either --size N or one filename must be specified.");
        if (file == null && (format != null || snapshot != null || imageOpts.on)) {
            throw new Errors.CliException("--image-opts, -f, and -l require a filename argument.");
        }
        long sizeBytes = 0;
        if (size != null) {
            sizeBytes = SizeParser.parse(size);
            if (sizeBytes < 0) {
                throw new Errors.CliException("Invalid image size specified. You may use k, M, G, T, P or E suffixes for "
                        + "kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
            }
        }
        if (!targetFormat.equals("raw") && !targetFormat.equals("qcow2")) {
            throw new Errors.CliException("Block driver '" + targetFormat + "' does not support size measurement");
        }
        OptionList opts = new OptionList();
        try {
            for (String o : options) opts.add(o);
        } catch (IllegalArgumentException e) {
            throw new Errors.CliException(e.getMessage());
        }
        if (size != null) opts.set("size", Long.toString(sizeBytes));

        ImageMeasure.Result result;
        if (file == null) {
            result = measure(opts, sizeBytes, null, null);
        } else {
            ImageArg arg = objects.image(file, format, imageOpts, spec.commandLine().getErr());
            forceShare.refuseBesideWriter(arg);
            try (BlockDevice image = ImageOpener.open(arg, allow.apply(OpenOptions.permissive()))) {
                BlockDevice source = snapshot == null ? image : SnapshotSpec.open(image, file, snapshot);
                result = measure(opts, sizeBytes, source, image instanceof Qcow2Image q ? q : null);
            }
        }
        print(result);
        return 0;
    }

    private ImageMeasure.Result measure(OptionList opts, long sizeBytes, BlockDevice source, Qcow2Image image) throws Exception {
        try {
            return targetFormat.equals("raw") ? ImageMeasure.raw(sizeBytes, source)
                    : ImageMeasure.qcow2(opts, source, image);
        } catch (IllegalArgumentException e) {
            throw new Errors.CliException(e.getMessage());
        }
    }

    private void print(ImageMeasure.Result r) {
        PrintWriter out = spec.commandLine().getOut();
        if (output.json()) {
            Map<String, Object> m = new LinkedHashMap<>();
            if (r.bitmaps().isPresent()) m.put("bitmaps", r.bitmaps().getAsLong());
            m.put("required", r.required());
            m.put("fully-allocated", r.fullyAllocated());
            out.print(QemuJson.pretty(m));
        } else {
            out.println("required size: " + r.required());
            out.println("fully allocated size: " + r.fullyAllocated());
            if (r.bitmaps().isPresent()) out.println("bitmaps size: " + r.bitmaps().getAsLong());
        }
        out.flush();
    }
}
