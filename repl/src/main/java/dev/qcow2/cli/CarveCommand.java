package dev.qcow2.cli;

import dev.qcow2.rescue.CarveOutput;
import dev.qcow2.rescue.CarveReport;
import dev.qcow2.rescue.CarveStatus;
import dev.qcow2.rescue.CarvedRun;
import dev.qcow2.rescue.Carver;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code qcow2 carve [--output=human|json] FILE OUTDIR}: every host cluster of FILE that no live
 * table references, with its provenance ({@link Carver}), copied into OUTDIR (new or empty) with
 * {@code manifest.json}. FILE is only read: no lock, no repair, dirty and corrupt images too.
 * Exit 0 when OUTDIR was written (also when nothing was unreferenced), 1 with one line otherwise.
 */
@Command(name = "carve", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = {"Copy every cluster no live table references into OUTDIR, with provenance.",
                "Lists leaked clusters, free clusters that are not zero, and clusters",
                "without a refcount, each with what it most likely was: old L1/L2/",
                "refcount/snapshot tables (and the guest range an L2 mapped), freed data",
                "(and the deleted snapshot that used it), compressed streams (and what",
                "they decompress to), zeros, unknown data. FILE is only read (no lock,",
                "no repair). OUTDIR must be new or empty; it gets one file per run, named",
                "by host offset and kind, and manifest.json. Exit 1 on bad input."})
final class CarveCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin OutputOption output;

    @Parameters(index = "0", paramLabel = "FILE", description = "The qcow2 image (read only).")
    String file;

    @Parameters(index = "1", paramLabel = "OUTDIR", description = "A new or empty directory for the carved runs and manifest.json.")
    String outDir;

    @Override
    public Integer call() throws IOException {
        PrintWriter w = spec.commandLine().getOut();
        CarveReport r = Carver.carve(Path.of(file), Path.of(outDir));
        w.print(output.json() ? CarveOutput.manifest(r) : human(r));
        w.flush();
        return 0;
    }

    static String human(CarveReport r) {
        StringBuilder b = new StringBuilder();
        b.append("Carved ").append(r.source()).append(" into ").append(r.outputDirectory()).append('\n');
        for (String warning : r.warnings()) b.append("warning: ").append(warning).append('\n');
        b.append(String.format("%-18s %10s  %-8s %-14s %s%n", "Offset", "Length", "Status", "Kind", "Evidence"));
        for (CarvedRun run : r.runs()) {
            b.append(String.format("0x%016x %10d  %-8s %-14s %s%n", run.hostOffset(), run.length(), run.status().label(),
                    run.provenance().kind(), run.provenance().evidence()));
        }
        b.append(r.carvedClusters()).append(" unreferenced clusters in ").append(r.runs().size()).append(" runs (");
        String sep = "";
        for (CarveStatus s : CarveStatus.values()) { b.append(sep).append(s.label()).append(' ').append(r.clusters(s)); sep = ", "; }
        b.append("); ").append(r.referencedClusters()).append(" referenced; ").append(r.freeZeroClusters())
                .append(" free zero clusters not listed\n");
        return b.toString();
    }
}
