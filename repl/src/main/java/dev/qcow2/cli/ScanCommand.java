package dev.qcow2.cli;

import dev.qcow2.scan.ImageScan;
import dev.qcow2.scan.LocalScanFiles;
import dev.qcow2.scan.ScanOptions;
import dev.qcow2.scan.ScanRecord;
import dev.qcow2.scan.ScanTargets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code qcow2 scan}: many images in one process ({@link ImageScan} on a pool of {@code --jobs}
 * threads), one record per image in argument/walk order, as one JSON line each or a table plus a
 * summary line. Read-only. Exit status: the worst record's, as {@code check}'s (1 failures over
 * 2 corruptions over 3 leaks over 0 clean). With {@code --spark} the same scan runs as a Spark
 * job ({@link SparkScan}).
 */
@Command(name = "scan", addMethodSubcommands = false, mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Scan many images (files, or directories walked recursively) in one process, one record per image.",
                "A record holds header facts, backing chain, snapshots, qemu-img check counters and, with --hash, guest-content digests.",
                "Read-only. Exit status: the worst check result (0 clean, 3 leaks, 2 corruptions, 1 failures)."})
final class ScanCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin OutputOption output;

    @Mixin AllowBackingOption allow;

    @Option(names = {"-j", "--jobs"}, paramLabel = "N", description = "Images scanned at once (default: the number of cores).")
    int jobs = Runtime.getRuntime().availableProcessors();

    @Option(names = "--hash", paramLabel = "ALGO[,ALGO...]",
            description = "Digest the guest content (what qemu-img convert -O raw writes): sha256, sha1, md5, sha512.")
    String hash;

    @Option(names = "--snapshots", description = "With --hash, also digest every internal snapshot's guest content.")
    boolean snapshots;

    @Option(names = "--follow-backing", description = "List every layer of each backing chain (default: the image's own backing file).")
    boolean followBacking;

    @Option(names = "--spark", paramLabel = "MASTER",
            description = "Run the scan as an Apache Spark job (e.g. local[4]); the spark module's jars are fetched by Maven on first use.")
    String spark;

    @Option(names = "--out", paramLabel = "DIR",
            description = "With --spark: write the records to DIR (JSON lines; DIR ending in .parquet: Parquet) instead of stdout.")
    String out;

    @Parameters(arity = "1..*", paramLabel = "PATH", description = "Images or directories (non-qcow2 files in directories are skipped).")
    List<String> paths;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (jobs < 1) throw new Errors.CliException("--jobs must be at least 1: " + jobs);
        ScanOptions options = options(hash, snapshots, followBacking, allow);
        if (out != null && spark == null) throw new Errors.CliException("--out is for --spark runs (redirect stdout otherwise)");
        if (spark != null) return SparkScan.run(spark, out, options, paths, output.json(), stdout, err);

        List<ScanTargets.Target> targets = ScanTargets.local(paths);
        Progress progress = new Progress(err, targets.size(), System.console() != null && System.console().isTerminal());
        List<ScanRecord> records = new ArrayList<>();
        int exit = 0;
        long t0 = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(Math.min(jobs, Math.max(1, targets.size())))) {
            List<Future<Optional<ScanRecord>>> futures = new ArrayList<>(targets.size());
            for (ScanTargets.Target t : targets) {
                futures.add(pool.submit(() -> {
                    Optional<ScanRecord> r = ImageScan.scan(LocalScanFiles.INSTANCE, t.path(), t.named(), options);
                    progress.step();
                    return r;
                }));
            }
            // in walk order, each as soon as it and those before it are done: output is the same for any --jobs
            for (Future<Optional<ScanRecord>> f : futures) {
                Optional<ScanRecord> r;
                try {
                    r = f.get();
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof Exception x ? x : e;
                }
                if (r.isEmpty()) continue;
                ScanRecord rec = r.get();
                exit = ScanRecord.worse(exit, rec.exitCode());
                if (output.json()) {
                    progress.clear();
                    stdout.println(rec.jsonLine());
                    stdout.flush();
                } else {
                    records.add(rec);
                }
            }
        }
        progress.clear();
        if (!output.json()) {
            stdout.print(ScanTable.render(records, options));
            stdout.println(ScanTable.summary(records, (System.nanoTime() - t0) / 1e9));
            stdout.flush();
        }
        return exit;
    }

    static ScanOptions options(String hash, boolean snapshots, boolean followBacking) {
        return options(hash, snapshots, followBacking, new AllowBackingOption());
    }

    /** The options of the command line; {@code --allow-backing} travels as its words (checked here). */
    static ScanOptions options(String hash, boolean snapshots, boolean followBacking, AllowBackingOption allow) {
        allow.policy();
        try {
            List<String> algorithms = hash == null ? List.of() : ScanOptions.parseAlgorithms(hash);
            if (snapshots && algorithms.isEmpty()) throw new Errors.CliException("--snapshots needs --hash (it digests each snapshot)");
            return new ScanOptions(algorithms, snapshots, followBacking, allow.words());
        } catch (IllegalArgumentException e) {
            throw new Errors.CliException("--hash: " + e.getMessage());
        }
    }

    /** "scanned N/M images" redrawn on stderr, only on a terminal. */
    private static final class Progress {
        private final PrintWriter err;
        private final long total;
        private final boolean on;
        private final AtomicLong done = new AtomicLong();
        private volatile long lastDraw;

        Progress(PrintWriter err, long total, boolean on) {
            this.err = err;
            this.total = total;
            this.on = on;
        }

        void step() {
            long n = done.incrementAndGet();
            if (!on) return;
            long now = System.nanoTime();
            if (n < total && now - lastDraw < 100_000_000L) return;
            lastDraw = now;
            synchronized (err) {
                int width = 30;
                int filled = (int) (total == 0 ? width : n * width / total);
                err.printf("\r[%s%s] %d/%d images", "#".repeat(filled), " ".repeat(width - filled), n, total);
                err.flush();
            }
        }

        void clear() {
            if (!on || done.get() == 0) return;
            synchronized (err) {
                err.print("\r\033[K");
                err.flush();
            }
        }
    }
}
