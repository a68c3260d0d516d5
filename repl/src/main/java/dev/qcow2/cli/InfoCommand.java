package dev.qcow2.cli;

import dev.qcow2.image.BackingName;
import dev.qcow2.image.FollowPolicy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code qcow2 info}: qemu-img info, same keys and values (7.2's ImageInfo). */
@Command(name = "info", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = "Show image metadata, like qemu-img info. Opens FILE without its backing file.")
final class InfoCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin OutputOption output;

    @Option(names = "--backing-chain", description = "Show every image of the backing chain, top first.")
    boolean backingChain;

    @Mixin FormatOption format;

    @Mixin ForceShareOption forceShare;

    @Mixin ObjectOption objects;

    @Mixin ImageOptsOption imageOpts;

    @Mixin TolerantOption tolerant;

    @Mixin AllowBackingOption allow;

    @Parameters(paramLabel = "FILE", description = "The image.")
    String file;

    @Override
    public Integer call() throws Exception {
        List<Map<String, Object>> chain = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        ImageArg image = objects.image(file, format.value, imageOpts, spec.commandLine().getErr());
        forceShare.refuseBesideWriter(image);
        String name = image.file();
        String fmt = image.format();
        // --backing-chain opens each layer: the names read from the layer above pass the gate first
        FollowPolicy follow = allow.policy().anchoredAt(image.path());
        String namedBy = null;
        while (name != null) {
            if (!seen.add(name)) throw new Errors.CliException("Backing file '" + name + "' creates an infinite loop.");
            if (namedBy != null) {
                BackingName parsed = BackingName.parse(namedBy, name);
                follow.check(namedBy, "backing file", java.nio.file.Path.of(parsed.json() ? parsed.fileName() : name));
            }
            Map<String, Object> info = chain.isEmpty() ? ImageInfo.of(image, tolerant.on, spec.commandLine().getErr()) : ImageInfo.of(name, fmt);
            chain.add(info);
            if (!backingChain) break;
            namedBy = name;
            name = (String) info.get("full-backing-filename");
            fmt = (String) info.get("backing-filename-format");
        }
        PrintWriter out = spec.commandLine().getOut();
        if (output.json()) {
            out.print(QemuJson.pretty(backingChain ? chain : chain.get(0)));
        } else {
            boolean delim = false;
            for (Map<String, Object> info : chain) {
                if (delim) out.print("\n");
                delim = true;
                out.print(human(info));
            }
        }
        out.flush();
        return 0;
    }

    /** block/qapi.c bdrv_image_info_dump (7.2). */
    @SuppressWarnings("unchecked")
    static String human(Map<String, Object> info) {
        StringBuilder sb = new StringBuilder();
        Object actual = info.get("actual-size");
        long vsize = (Long) info.get("virtual-size");
        sb.append("image: ").append(info.get("filename")).append('\n');
        sb.append("file format: ").append(info.get("format")).append('\n');
        sb.append("virtual size: ").append(HumanSize.format(vsize)).append(" (").append(vsize).append(" bytes)\n");
        sb.append("disk size: ").append(actual == null ? "unavailable" : HumanSize.format((Long) actual)).append('\n');
        if (Boolean.TRUE.equals(info.get("encrypted"))) sb.append("encrypted: yes\n");
        if (info.containsKey("cluster-size")) sb.append("cluster_size: ").append(info.get("cluster-size")).append('\n');
        if (Boolean.TRUE.equals(info.get("dirty-flag"))) sb.append("cleanly shut down: no\n");
        if (info.containsKey("backing-filename")) {
            String backing = (String) info.get("backing-filename");
            String full = (String) info.get("full-backing-filename");
            sb.append("backing file: ").append(backing);
            if (full == null) sb.append(" (cannot determine actual path)");
            else if (!full.equals(backing)) sb.append(" (actual path: ").append(full).append(')');
            sb.append('\n');
            if (info.containsKey("backing-filename-format")) {
                sb.append("backing file format: ").append(info.get("backing-filename-format")).append('\n');
            }
        }
        if (info.containsKey("snapshots")) {
            sb.append("Snapshot list:\n");
            sb.append(String.format("%-10s%-17s%8s%20s%13s%11s", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK", "ICOUNT")).append('\n');
            for (Object o : (List<Object>) info.get("snapshots")) sb.append(snapshotLine((Map<String, Object>) o)).append('\n');
        }
        if (info.containsKey("format-specific")) {
            sb.append("Format specific information:\n");
            sb.append(QemuJson.human(((Map<String, Object>) info.get("format-specific")).get("data"), 1));
        }
        return sb.toString();
    }

    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    /** block/snapshot.c bdrv_snapshot_dump (7.2 layout). */
    static String snapshotLine(Map<String, Object> s) {
        long clockNs = (Long) s.get("vm-clock-sec") * 1_000_000_000L + (Long) s.get("vm-clock-nsec");
        long secs = clockNs / 1_000_000_000L;
        String clock = String.format("%02d:%02d:%02d.%03d", secs / 3600, (secs / 60) % 60, secs % 60, (clockNs / 1_000_000) % 1000);
        String date = DATE.format(Instant.ofEpochSecond((Long) s.get("date-sec")).atZone(ZoneId.systemDefault()));
        String icount = s.containsKey("icount") ? String.valueOf(s.get("icount")) : "";
        return String.format("%-9s %-16s %8s%20s%13s%11s", s.get("id"), s.get("name"),
                HumanSize.format((Long) s.get("vm-state-size")), date, clock, icount);
    }
}
