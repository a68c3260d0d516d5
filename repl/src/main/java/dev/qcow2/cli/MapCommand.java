package dev.qcow2.cli;

import dev.qcow2.image.OpenOptions;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.image.ChainMap;
import dev.qcow2.image.MapEntry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * {@code qcow2 map}: qemu-img map. JSON entries are printed one a line, by hand, exactly as
 * qemu-img's dump_map_entry does; {@code compressed} is included (current QEMU's schema, 8.2+).
 */
@Command(name = "map", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = "Show the allocation map of the whole backing chain, like qemu-img map.")
final class MapCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin OutputOption output;

    @Mixin FormatOption format;

    @Option(names = {"-s", "--start-offset"}, paramLabel = "OFFSET", description = "First guest byte to map (k/M/G suffixes).")
    String start;

    @Option(names = {"-l", "--max-length"}, paramLabel = "LENGTH", description = "Map at most this many bytes.")
    String maxLength;

    @Mixin ForceShareOption forceShare;

    @Mixin ObjectOption objects;

    @Mixin ImageOptsOption imageOpts;

    @Mixin TolerantOption tolerant;

    @Mixin AllowBackingOption allow;

    @Parameters(paramLabel = "FILE", description = "The image.")
    String file;

    @Override
    public Integer call() throws Exception {
        long from = start == null ? 0 : HumanSize.parse("start offset", start);
        long len = maxLength == null ? Long.MAX_VALUE - from : HumanSize.parse("max length", maxLength);
        PrintWriter out = spec.commandLine().getOut();
        StringBuilder buf = new StringBuilder();
        ImageArg image = objects.image(file, format.value, imageOpts, spec.commandLine().getErr());
        forceShare.refuseBesideWriter(image);
        try (BlockDevice dev = ImageOpener.open(image, allow.apply(tolerant.apply(OpenOptions.permissive())))) {
            TolerantOption.reportIgnored(dev, spec.commandLine().getErr());
            MapEntry[] prev = new MapEntry[1];
            if (output.json()) buf.append('[');
            else buf.append(String.format("%-16s%-16s%-16s%s%n", "Offset", "Length", "Mapped to", "File"));
            new ChainMap(true).walk(dev, from, len, e -> {
                if (prev[0] != null) emit(out, buf, prev[0], e);
                prev[0] = e;
                if (buf.length() > 1 << 16) { out.print(buf); buf.setLength(0); }
            });
            // qemu-img prints its (empty) current entry even when the range is empty
            MapEntry last = prev[0] != null ? prev[0] : new MapEntry(from, 0, 0, false, false, false, false, -1, null);
            emit(out, buf, last, null);
            if (output.json()) buf.append("]\n");
            out.print(buf);
            out.flush();
        }
        return 0;
    }

    private void emit(PrintWriter out, StringBuilder buf, MapEntry e, MapEntry next) {
        if (output.json()) {
            buf.append("{ \"start\": ").append(e.start()).append(", \"length\": ").append(e.length())
                    .append(", \"depth\": ").append(e.depth()).append(", \"present\": ").append(e.present())
                    .append(", \"zero\": ").append(e.zero()).append(", \"data\": ").append(e.data())
                    .append(", \"compressed\": ").append(e.compressed());
            if (e.hasOffset()) buf.append(", \"offset\": ").append(e.offset());
            buf.append('}');
            if (next != null) buf.append(",\n");
            return;
        }
        if (e.data() && !e.hasOffset()) {
            out.print(buf);
            out.flush();
            buf.setLength(0);
            throw new Errors.CliException("File contains external, encrypted or compressed clusters.");
        }
        if (e.data() && !e.zero()) {
            buf.append(String.format("%-16s%-16s%-16s%s%n", hex(e.start()), hex(e.length()), hex(e.offset()), e.filename()));
        }
    }

    /** C's {@code %#x}: 0 has no prefix. */
    private static String hex(long v) { return v == 0 ? "0" : "0x" + Long.toHexString(v); }
}
