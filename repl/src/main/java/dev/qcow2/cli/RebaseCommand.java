package dev.qcow2.cli;

import dev.qcow2.chain.Rebase;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code qcow2 rebase [-f FMT] [-t CACHE] [-T SRC_CACHE] [-p] [-q] [-U] [-u] -b BACKING [-F FMT] FILE}:
 * qemu-img rebase. Safe mode copies into the image what differs between its old and new backing
 * file, then names the new one; {@code -u} only rewrites the name; an empty name (or {@code -u}
 * without {@code -b}) removes the backing file. Prints nothing on success.
 */
@Command(name = "rebase", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = {"Change the backing file of a qcow2 image, as qemu-img rebase.",
                "Relative backing names are resolved against the image's directory."})
final class RebaseCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Mixin FormatOption formatOption;

    @Mixin CacheOption cache;

    @Option(names = {"-T", "--backing-cache"}, paramLabel = "SRC_CACHE", description = "Cache mode for the backing files (accepted).")
    String sourceCache;

    @Option(names = {"-b", "--backing"}, paramLabel = "BACKING", description = "The new backing file (\"\" removes it).")
    String backing;

    @Option(names = {"-F", "-B", "--backing-format"}, paramLabel = "FMT", description = "The new backing file's format.")
    String backingFormat;

    @Option(names = {"-u", "--backing-unsafe"}, description = "Only rewrite the backing file name and format.")
    boolean unsafe;

    @Mixin ForceShareOption forceShare;

    @Mixin ProgressOption progress;

    @Mixin QuietOption quiet;

    @Mixin ObjectOption objects;

    @Mixin ImageOptsOption imageOpts;

    @Mixin AllowBackingOption allow;

    @Parameters(paramLabel = "FILE", arity = "0..*", description = "The image to rebase.")
    List<String> files = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        CacheOption.check(cache.mode, "cache");
        CacheOption.check(sourceCache, "source cache");
        if (files.size() != 1) throw new Errors.CliException("Expecting one image file name");
        if (!unsafe && backing == null) throw new Errors.CliException("Must specify backing file (-b) or use unsafe mode (-u)");
        ImageArg image = objects.image(files.get(0), formatOption.value, imageOpts, spec.commandLine().getErr());
        String file = image.file();
        Rebase.Options options = new Rebase.Options(backing, backingFormat, unsafe, allow.policy());
        Rebase.validate(options);
        String format = image.format();
        String fmt = ImageOpener.format(file, "raw".equals(format) ? null : format);
        if ("raw".equals(format) || fmt.equals("raw")) {
            throw new Errors.CliException("Could not change the backing file to '" + (backing == null ? "" : backing)
                    + "': Operation not supported");
        }
        ProgressLine p = progress.start(quiet, spec.commandLine().getOut());
        Rebase.rebase(Path.of(file), options, image.lookup(), p::update);
        p.done();
        return 0;
    }
}
