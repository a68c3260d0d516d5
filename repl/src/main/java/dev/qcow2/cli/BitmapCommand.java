package dev.qcow2.cli;

import dev.qcow2.format.BitmapDirectoryEntry;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.write.BitmapException;
import dev.qcow2.write.BitmapTracker;
import dev.qcow2.write.Qcow2Writer;
import dev.qcow2.write.WriteOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code qcow2 bitmap (--add [-g G] | --remove | --clear | --enable | --disable | --merge SOURCE
 * [-b SOURCE_FILE [-F FMT]])... FILE BITMAP}: qemu-img bitmap 7.2. The actions run in the order
 * given, on one bitmap; the first that fails stops the rest with "Operation OP on bitmap B
 * failed: REASON" (what ran before it is kept, as qemu-img keeps it: the image is closed, and
 * the bitmaps stored, either way).
 */
@Command(name = "bitmap", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = {"Change the persistent dirty bitmaps of a qcow2 image, as qemu-img bitmap.",
                "The actions run in the order given; at least one is needed."})
final class BitmapCommand implements Callable<Integer> {
    /** One action of the command line, in order. */
    sealed interface Action {
        String op();
    }
    record Add() implements Action { public String op() { return "add"; } }
    record Remove() implements Action { public String op() { return "remove"; } }
    record Clear() implements Action { public String op() { return "clear"; } }
    record Enable() implements Action { public String op() { return "enable"; } }
    record Disable() implements Action { public String op() { return "disable"; } }
    record Merge(String source) implements Action { public String op() { return "merge"; } }

    @Spec CommandSpec spec;

    @Mixin FormatOption formatOption;

    @Mixin AllowBackingOption allow;

    // The actions are read in command-line order from the original arguments (actions()); these
    // fields only declare them for picocli (and its help), repeated as often as given.
    @Option(names = "--add", description = "Create BITMAP, enabled (follow with --disable for a disabled one).")
    boolean[] add;

    @Option(names = "--remove", description = "Remove BITMAP from the image.")
    boolean[] remove;

    @Option(names = "--clear", description = "Clear every bit of BITMAP.")
    boolean[] clear;

    @Option(names = "--enable", description = "Make writes set BITMAP's bits.")
    boolean[] enable;

    @Option(names = "--disable", description = "Stop writes from setting BITMAP's bits.")
    boolean[] disable;

    @Option(names = "--merge", paramLabel = "SOURCE", description = "OR the bits of bitmap SOURCE (of this image, or of -b SOURCE_FILE) into BITMAP.")
    List<String> merge;

    @Option(names = {"-g", "--granularity"}, paramLabel = "GRANULARITY",
            description = "Bytes each bit of an added bitmap covers (a power of 2, at least 512; default: the cluster size, 4k..64k).")
    String granularity;

    @Option(names = {"-b", "--source-file"}, paramLabel = "SOURCE_FILE", description = "The image holding the --merge source bitmap.")
    String sourceFile;

    @Option(names = {"-F", "--source-format"}, paramLabel = "FMT", description = "The format of SOURCE_FILE (qcow2).")
    String sourceFormat;

    @Parameters(paramLabel = "FILE BITMAP", arity = "0..*", description = "The image and the bitmap's name.")
    List<String> positional = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        List<Action> actions = actions(spec.commandLine().getParseResult().originalArgs());
        // qemu-img's checks, in its order
        if (actions.isEmpty()) throw new Errors.CliException("Need at least one of --add, --remove, --clear, --enable, --disable, or --merge");
        long g = granularity == null ? 0 : parseGranularity(granularity);
        boolean adds = actions.stream().anyMatch(a -> a instanceof Add);
        boolean merges = actions.stream().anyMatch(a -> a instanceof Merge);
        if (g != 0 && !adds) throw new Errors.CliException("granularity only supported with --add");
        if (sourceFormat != null && sourceFile == null) throw new Errors.CliException("-F only supported with -b");
        if (sourceFile != null && !merges) throw new Errors.CliException("Merge bitmap source file only supported with --merge");
        if (positional.size() != 2) throw new Errors.CliException("Expecting filename and bitmap name");
        String file = positional.get(0);
        String bitmap = positional.get(1);
        String fmt = ImageOpener.format(file, formatOption.value);
        if (sourceFile != null) {
            String srcFmt = ImageOpener.format(sourceFile, sourceFormat);
            if (!srcFmt.equals("qcow2")) throw new Errors.CliException(sourceFile + ": only qcow2 images hold persistent bitmaps");
        }
        if (!fmt.equals("qcow2")) {
            Action first = actions.getFirst();
            String why = first instanceof Add ? "Can't store persistent bitmaps to '" + file + "': Operation not supported"
                    : "Dirty bitmap '" + (first instanceof Merge m ? m.source() : bitmap) + "' not found";
            throw new Errors.CliException("Operation " + first.op() + " on bitmap " + bitmap + " failed: " + why);
        }
        // qemu-img truncates the granularity to 32 bits (an uint32 in QMP): 4G becomes 0 and is refused
        long effective = g == 0 ? 0 : ((g & 0xffffffffL) == 0 ? 1 : g & 0xffffffffL);
        try (Qcow2Writer image = Qcow2Writer.open(Path.of(file), allow.apply(WriteOptions.defaults()))) {
            BitmapTracker bitmaps = image.bitmaps();
            for (Action a : actions) {
                try {
                    switch (a) {
                        case Add x -> bitmaps.add(bitmap, effective, true);
                        case Remove x -> bitmaps.remove(bitmap);
                        case Clear x -> bitmaps.clear(bitmap);
                        case Enable x -> bitmaps.enable(bitmap);
                        case Disable x -> bitmaps.disable(bitmap);
                        case Merge m when sourceFile == null -> bitmaps.merge(bitmap, m.source());
                        case Merge m -> bitmaps.mergeRanges(bitmap, sourceRanges(m.source()));
                    }
                } catch (BitmapException e) {
                    throw new Errors.CliException("Operation " + a.op() + " on bitmap " + bitmap + " failed: " + e.detail());
                }
            }
        }
        return 0;
    }

    /** The dirty ranges of bitmap {@code name} of -b SOURCE_FILE (opened read-only). */
    private List<long[]> sourceRanges(String name) throws IOException {
        try (Qcow2Image src = Qcow2Image.open(Path.of(sourceFile))) {
            for (BitmapDirectoryEntry e : src.bitmaps()) {
                if (!e.name().equals(name)) continue;
                if (e.inUse()) throw new BitmapException(sourceFile, "Bitmap '" + name + "' is inconsistent and cannot be used");
                return src.bitmap(e).dirtyRanges();
            }
        }
        throw new BitmapException(sourceFile, "Dirty bitmap '" + name + "' not found");
    }

    /** The actions in the order the arguments give them (picocli keeps each option's values, not their order). */
    static List<Action> actions(List<String> args) {
        List<Action> out = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--")) break;
            switch (a) {
                case "--add" -> out.add(new Add());
                case "--remove" -> out.add(new Remove());
                case "--clear" -> out.add(new Clear());
                case "--enable" -> out.add(new Enable());
                case "--disable" -> out.add(new Disable());
                case "--merge" -> { if (i + 1 < args.size()) out.add(new Merge(args.get(++i))); }
                case "-g", "--granularity", "-b", "--source-file", "-F", "--source-format", "-f", "--format" -> i++;
                default -> { if (a.startsWith("--merge=")) out.add(new Merge(a.substring("--merge=".length()))); }
            }
        }
        return out;
    }

    private static long parseGranularity(String text) {
        try {
            return SizeArg.parse(text);
        } catch (Errors.CliException e) {
            throw new Errors.CliException("Invalid granularity specified. You may use k, M, G, T, P or E suffixes for "
                    + "kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
        }
    }
}
