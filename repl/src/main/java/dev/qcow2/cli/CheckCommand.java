package dev.qcow2.cli;

import dev.qcow2.check.CheckReport;
import dev.qcow2.check.Finding;
import dev.qcow2.check.ImageChecker;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.repair.RepairMode;
import dev.qcow2.repair.RepairResult;
import dev.qcow2.repair.Repairer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code qcow2 check}: qemu-img check, read-only unless {@code -r leaks|all} asks for a repair.
 * Detail lines go to stderr as they are found; the summary (human) or the ImageCheck object
 * (JSON, plus {@code findings}) to stdout. A repair keeps an undo journal beside the image and
 * says where it is (stderr). Exit status as qemu-img: 0 clean, 1 check incomplete or image not
 * openable, 2 corruptions, 3 leaks only, 63 not a format with checks.
 */
@Command(name = "check", addMethodSubcommands = false, mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Check a qcow2 image for consistency, as qemu-img check does (read-only unless -r is given).",
                "Exit status: 0 consistent, 1 check not completed or image cannot be opened,",
                "2 corruptions found, 3 leaked clusters only, 63 format has no check."})
final class CheckCommand implements Callable<Integer> {
    static final int EXIT_NO_CHECK = 63;
    private static final byte[] QCOW2_MAGIC = {'Q', 'F', 'I', (byte) 0xfb};

    @Spec CommandSpec spec;

    @Mixin OutputOption output;

    @Mixin FormatOption formatOption;

    @Option(names = "-q", description = "Quiet: print nothing on stdout (details still go to stderr).")
    boolean quiet;

    @Mixin ForceShareOption forceShare;

    @Mixin ObjectOption objects;

    @Mixin ImageOptsOption imageOpts;

    @Option(names = {"-r", "--repair"}, paramLabel = "leaks|all",
            description = {"Repair as qemu-img check -r does: 'leaks' frees leaked clusters, 'all' fixes every error it can.",
                    "The bytes it overwrites are kept in FILE-undo; 'qcow2 undo FILE' restores the image."})
    String repair;

    @Mixin TolerantOption tolerant;

    @Mixin AllowBackingOption allow;

    @Option(names = "--no-key",
            description = "Check the metadata of an encrypted image without its secret, where qemu-img refuses "
                    + "(\"Parameter 'encrypt.key-secret' is required for cipher\", exit 1). A check reads no guest data.")
    boolean noKey;

    @Parameters(index = "0", paramLabel = "FILE", description = "The image to check.")
    String file;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        RepairMode mode = null;
        if (repair != null) {
            mode = RepairMode.parse(repair);
            if (mode == null) {
                throw new Errors.CliException("Unknown option value for -r (expecting 'leaks' or 'all'): " + repair);
            }
        }
        ImageArg image = objects.image(file, formatOption.value, imageOpts, err);
        if (repair == null) forceShare.refuseBesideWriter(image);
        String file = image.file();
        String format = image.format();
        if (format != null && !format.equals("qcow2")) {
            if (!format.equals("raw")) throw new Errors.CliException("Could not open '" + file + "': Unknown driver '" + format + "'");
            return noCheck(err);
        }
        if (format == null && !hasQcow2Magic(Path.of(file))) return noCheck(err);   // qemu probes it as raw
        if (mode != null && (tolerant.on || noKey)) {
            throw new Errors.CliException("check: " + (tolerant.on ? "--tolerant" : "--no-key") + " reads only; it cannot be combined with -r");
        }
        if (mode != null) return repair(image, mode, out, err);
        CheckReport report;
        try (Qcow2Image img = (Qcow2Image) ImageOpener.open(image, allow.apply(tolerant.apply(OpenOptions.forChecking())))) {
            TolerantOption.reportIgnored(img, err);
            if (noKey && img.encryption() instanceof dev.qcow2.image.Encryption.Locked) {
                err.println("qcow2: " + file + ": --no-key: checking metadata only, without the key of the "
                        + img.encryptionFormat() + " encryption (qemu-img refuses this image without its secret)");
                err.flush();
            }
            report = ImageChecker.check(img, noKey, f -> {
                err.println(f.message());
                err.flush();
            });
        }
        if (!report.completed()) {
            err.println("qcow2: " + file + ": Check failed: " + report.failure().get());
            err.flush();
            return Errors.EXIT_ERROR;
        }
        if (!quiet) {
            out.print(output.json() ? QemuJson.pretty(json(report)) : human(report));
            out.flush();
        }
        if (report.checkErrors() > 0) {
            err.println("qcow2: " + file + ": Check failed");
            err.flush();
        }
        return report.exitCode();
    }

    /** qemu-img check -r: the repairing pass, then the report of a second, read-only pass. */
    private int repair(ImageArg image, RepairMode mode, PrintWriter out, PrintWriter err) throws IOException {
        String file = image.file();
        RepairResult result = Repairer.repair(Path.of(file), mode, line -> {
            err.println(line);
            err.flush();
        }, image.lookup(), allow.policy());
        result.journal().ifPresent(j -> {
            err.println("Undo journal: " + j + " (restore with: qcow2 undo " + file + ")");
            err.flush();
        });
        if (result.failure().isPresent()) {
            err.println("qcow2: " + file + ": Check failed: " + result.failure().get());
            err.flush();
            return Errors.EXIT_ERROR;
        }
        if (result.fixedAnything() && !output.json() && !quiet) {
            out.printf("The following inconsistencies were found and repaired:%n%n    %d leaked clusters%n    %d corruptions%n%n"
                    + "Double checking the fixed image now...%n", result.leaksFixed(), result.corruptionsFixed());
        }
        CheckReport report = result.after();
        if (!report.completed()) {
            err.println("qcow2: " + file + ": Check failed: " + report.failure().get());
            err.flush();
            return Errors.EXIT_ERROR;
        }
        if (!quiet) {
            Map<String, Object> json = null;
            if (output.json()) {
                json = json(report);
                putNonZero(json, "leaks-fixed", result.leaksFixed());
                putNonZero(json, "corruptions-fixed", result.corruptionsFixed());
            }
            out.print(json != null ? QemuJson.pretty(json) : human(report));
            out.flush();
        }
        if (report.checkErrors() > 0) {
            err.println("qcow2: " + file + ": Check failed");
            err.flush();
        }
        return report.exitCode();
    }

    private static int noCheck(PrintWriter err) {
        err.println("qcow2: This image format does not support checks");
        err.flush();
        return EXIT_NO_CHECK;
    }

    private static boolean hasQcow2Magic(Path path) throws IOException {
        if (!Files.isRegularFile(path)) return true;   // let the open report the problem
        try (InputStream in = Files.newInputStream(path)) {
            byte[] magic = in.readNBytes(4);
            return java.util.Arrays.equals(magic, QCOW2_MAGIC);
        }
    }

    /** qemu-img's dump_human_image_check. */
    static String human(CheckReport r) {
        StringBuilder s = new StringBuilder();
        if (r.corruptions() == 0 && r.leaks() == 0 && r.checkErrors() == 0) {
            s.append("No errors were found on the image.\n");
        } else {
            if (r.corruptions() != 0) {
                s.append('\n').append(r.corruptions()).append(" errors were found on the image.\n")
                        .append("Data may be corrupted, or further writes to the image may corrupt it.\n");
            }
            if (r.leaks() != 0) {
                s.append('\n').append(r.leaks()).append(" leaked clusters were found on the image.\n")
                        .append("This means waste of disk space, but no harm to data.\n");
            }
            if (r.checkErrors() != 0) {
                s.append('\n').append(r.checkErrors()).append(" internal errors have occurred during the check.\n");
            }
        }
        if (r.totalClusters() != 0 && r.allocatedClusters() != 0) {
            s.append(String.format(Locale.ROOT, "%d/%d = %s%% allocated, %s%% fragmented, %s%% compressed clusters%n",
                    r.allocatedClusters(), r.totalClusters(),
                    percent(r.allocatedClusters() * 100.0 / r.totalClusters()),
                    percent(r.fragmentedClusters() * 100.0 / r.allocatedClusters()),
                    percent(r.compressedClusters() * 100.0 / r.allocatedClusters())));
        }
        if (r.imageEndOffset() != 0) s.append("Image end offset: ").append(r.imageEndOffset()).append('\n');
        return s.toString();
    }

    /** printf's %.2f as glibc does it: the exact binary value, ties to even (3.125 -> 3.12; Java's %.2f gives 3.13). */
    static String percent(double v) {
        return dev.qcow2.units.ExactDecimal.fixed(v, 2);
    }

    /** qemu-img's ImageCheck: zero counters left out (no repair, so never corruptions-fixed/leaks-fixed). */
    Map<String, Object> json(CheckReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("filename", file);
        m.put("format", "qcow2");
        m.put("check-errors", r.checkErrors());
        putNonZero(m, "image-end-offset", r.imageEndOffset());
        putNonZero(m, "corruptions", r.corruptions());
        putNonZero(m, "leaks", r.leaks());
        putNonZero(m, "total-clusters", r.totalClusters());
        putNonZero(m, "allocated-clusters", r.allocatedClusters());
        putNonZero(m, "fragmented-clusters", r.fragmentedClusters());
        putNonZero(m, "compressed-clusters", r.compressedClusters());
        List<Map<String, Object>> findings = new ArrayList<>();
        for (Finding f : r.findings()) {
            Map<String, Object> fm = new LinkedHashMap<>();
            fm.put("type", f.type().jsonName());
            fm.put("structure", f.structure());
            if (f.hostOffset() >= 0) fm.put("offset", f.hostOffset());
            if (f.cluster() >= 0) fm.put("cluster", f.cluster());
            fm.put("message", f.message());
            findings.add(fm);
        }
        m.put("findings", findings);
        if (r.findingsOmitted() != 0) m.put("findings-omitted", r.findingsOmitted());
        return m;
    }

    private static void putNonZero(Map<String, Object> m, String key, long value) {
        if (value != 0) m.put(key, value);
    }
}
