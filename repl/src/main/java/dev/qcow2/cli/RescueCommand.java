package dev.qcow2.cli;

import dev.qcow2.rescue.Placement;
import dev.qcow2.crypto.Secret;
import dev.qcow2.rescue.RescueOptions;
import dev.qcow2.rescue.RescueReport;
import dev.qcow2.rescue.Rescuer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code qcow2 rescue [--output=human|json] DAMAGED OUT}: writes a new image OUT holding every
 * guest cluster of DAMAGED that the evidence places ({@link Rescuer}), then reports the
 * structures found, the clusters placed per method (certain vs inferred) and the clusters left
 * over. DAMAGED is only read. Exit 0 when OUT was written; 1 with one line when nothing could be
 * recovered.
 */
@Command(name = "rescue", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = {"Recover a qcow2 image with damaged metadata into a new image OUT.",
                "DAMAGED is only read (no lock). Evidence: intact tables, tables found by",
                "scanning, snapshot tables, guest partition tables and ext2/3/4 file",
                "systems, QEMU's allocation order. The report says which placements are",
                "certain and which are inferred. Exit 1 when nothing could be recovered.",
                "Encrypted images (LUKS, legacy AES) need their secret: --object secret,...",
                "with --image-opts driver=qcow2,file.filename=DAMAGED,encrypt.key-secret=ID;",
                "OUT is written plain. An overlay is rescued over its intact base (-b): OUT",
                "is then an overlay of BASE. External data: --data-file, OUT holds it inline."})
final class RescueCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin OutputOption output;

    @Mixin ObjectOption objects;

    @Mixin ImageOptsOption imageOpts;

    @Mixin AllowBackingOption allow;

    @Option(names = "--data-file", paramLabel = "PATH",
            description = "The damaged image's external data file (default: the name in a surviving header). OUT holds the data inline.")
    String dataFile;

    @Option(names = {"-b", "--backing"}, paramLabel = "BASE",
            description = "The intact base of a damaged overlay (default: the name in a surviving header); OUT becomes an overlay of BASE.")
    String backing;

    @Option(names = {"-F", "--backing-format"}, paramLabel = "FMT", description = "The format of BASE: qcow2 or raw (default: probed).")
    String backingFormat;

    @Parameters(index = "0", paramLabel = "DAMAGED", description = "The damaged image (read only).")
    String damaged;

    @Parameters(index = "1", paramLabel = "OUT", description = "The new qcow2 image to write (created or overwritten).")
    String out;

    @Override
    public Integer call() throws IOException {
        PrintWriter w = spec.commandLine().getOut();
        if (backingFormat != null && backing == null) throw new Errors.CliException("rescue: -F needs -b BASE");
        RescueReport r;
        try (ObjectOption secrets = objects) {
            ImageArg image = objects.image(damaged, null, imageOpts, spec.commandLine().getErr());
            String id = image.secretIds().get(0);
            Secret secret = id == null ? null : objects.secrets().byId(id).orElseThrow(() ->
                    new Errors.CliException("Could not open '" + image.operand() + "': No secret with id '" + id + "'"));
            // names a surviving header holds (backing file, data file) pass the open gate of every command
            RescueOptions options = new RescueOptions(secret, dataFile == null ? null : Path.of(dataFile),
                    backing == null ? null : Path.of(backing), backingFormat, allow.policy());
            r = Rescuer.rescue(image.path(), Path.of(out), options);
        }
        w.print(output.json() ? QemuJson.pretty(json(r)) : human(r));
        w.flush();
        return 0;
    }

    static Map<String, Object> json(RescueReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("source", r.source());
        m.put("output", r.output());
        m.put("cluster-size", r.clusterSize());
        m.put("cluster-size-evidence", r.clusterSizeEvidence());
        m.put("virtual-size", r.virtualSize());
        m.put("virtual-size-evidence", r.virtualSizeEvidence());
        List<Object> structures = new ArrayList<>();
        for (RescueReport.Structure s : r.structures()) {
            Map<String, Object> sm = new LinkedHashMap<>();
            sm.put("kind", s.kind());
            if (s.hostOffset() >= 0) sm.put("offset", s.hostOffset());
            sm.put("status", s.status());
            sm.put("evidence", s.evidence());
            structures.add(sm);
        }
        m.put("structures", structures);
        Map<String, Object> placed = new LinkedHashMap<>();
        for (Placement p : Placement.values()) {
            Map<String, Object> pm = new LinkedHashMap<>();
            pm.put("clusters", r.placed().getOrDefault(p, 0L));
            pm.put("certain", p.certain());
            placed.put(p.label(), pm);
        }
        m.put("placed", placed);
        m.put("placed-certain", r.placedCertain());
        m.put("placed-inferred", r.placedTotal() - r.placedCertain());
        m.put("left-over", r.leftover());
        m.put("left-over-offsets", r.leftoverHosts());
        return m;
    }

    static String human(RescueReport r) {
        StringBuilder b = new StringBuilder();
        b.append("Rescued ").append(r.source()).append(" into ").append(r.output()).append('\n');
        b.append("cluster size: ").append(r.clusterSize()).append(" (").append(r.clusterSizeEvidence()).append(")\n");
        b.append("virtual size: ").append(r.virtualSize()).append(" (").append(r.virtualSizeEvidence()).append(")\n");
        b.append("structures:\n");
        for (RescueReport.Structure s : r.structures()) {
            b.append("  ").append(s.status()).append(": ").append(s.kind());
            if (s.hostOffset() >= 0) b.append(" at 0x").append(Long.toHexString(s.hostOffset()));
            b.append(" - ").append(s.evidence()).append('\n');
        }
        b.append("guest clusters placed: ").append(r.placedTotal()).append(" (certain ").append(r.placedCertain())
                .append(", inferred ").append(r.placedTotal() - r.placedCertain()).append(")\n");
        for (Placement p : Placement.values()) {
            long n = r.placed().getOrDefault(p, 0L);
            if (n > 0) b.append("  ").append(p.label()).append(": ").append(n).append(p.certain() ? " (certain)" : " (inferred)").append('\n');
        }
        b.append("host clusters left over (data no evidence placed): ").append(r.leftover()).append('\n');
        return b.toString();
    }
}
