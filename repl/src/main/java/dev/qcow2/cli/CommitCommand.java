package dev.qcow2.cli;

import dev.qcow2.chain.Commit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code qcow2 commit [-f FMT] [-t CACHE] [-b BASE] [-d] [-p] [-q] [-r RATE] FILE}: qemu-img
 * commit — writes the image's data into its backing file (or the deeper BASE), which grows if
 * it is smaller; the image is emptied unless {@code -d} or {@code -b}. Prints "Image committed.".
 */
@Command(name = "commit", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = {"Commit the changes of a qcow2 image into its backing file, as qemu-img commit.",
                "The image is emptied afterwards unless -d or -b is given."})
final class CommitCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin FormatOption formatOption;

    @Mixin CacheOption cache;

    @Option(names = {"-b", "--base"}, paramLabel = "BASE", description = "Commit into this image of the backing chain (implies -d).")
    String base;

    @Option(names = {"-d", "--drop"}, description = "Keep the image's content (do not empty it).")
    boolean drop;

    @Option(names = {"-r", "--rate-limit"}, paramLabel = "RATE", description = "Accepted for qemu-img compatibility (no rate limit is applied).")
    String rate;

    @Mixin ProgressOption progress;

    @Mixin QuietOption quiet;

    @Mixin ObjectOption objects;

    @Mixin ImageOptsOption imageOpts;

    @Mixin AllowBackingOption allow;

    @Parameters(paramLabel = "FILE", arity = "0..*", description = "The image to commit.")
    List<String> files = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        CacheOption.check(cache.mode, "cache");
        if (rate != null) checkRate(rate);
        if (files.size() != 1) throw new Errors.CliException("Expecting one image file name");
        ImageArg image = objects.image(files.get(0), formatOption.value, imageOpts, spec.commandLine().getErr());
        String file = image.file();
        String format = image.format();
        String fmt = "raw".equals(format) ? "raw" : ImageOpener.format(file, format);
        if (fmt.equals("raw")) throw new Errors.CliException("Image does not have a backing file");
        PrintWriter out = spec.commandLine().getOut();
        ProgressLine p = progress.start(quiet, out);
        Commit.commit(Path.of(file), new Commit.Options(base, drop, allow.policy()), image.lookup(), p::update);
        p.done();
        if (!quiet.on) {
            out.println("Image committed.");
            out.flush();
        }
        return 0;
    }

    private static void checkRate(String text) {
        try {
            SizeArg.parse(text);
        } catch (Errors.CliException e) {
            throw new Errors.CliException("Invalid rate limit specified. You may use k, M, G, T, P or E suffixes for "
                    + "kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
        }
    }
}
