package dev.qcow2.spark;

import dev.qcow2.scan.ImageScan;
import dev.qcow2.scan.ScanOptions;
import dev.qcow2.scan.ScanRecord;
import dev.qcow2.scan.ScanTargets;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * {@code qcow2 scan} as a Spark job: the driver lists the files (local names with the CLI's own
 * walker, {@link ScanTargets}; Hadoop URIs by a recursive listing), the executors run the one
 * {@link ImageScan} on each over {@link HadoopStorage} (positional reads, random read policy;
 * never {@code binaryFiles}, which loads whole files and stops at 2 GB), and the records are the
 * same JSON lines as the local scan's, in the same order.
 *
 * <p>Command line (spark-submit or {@code qcow2 scan --spark}):
 * {@code [--master M] [--out DIR] [--hash A,B] [--snapshots] [--follow-backing] PATH...}; without
 * {@code --out} the lines go to stdout; {@code --out DIR} writes JSON lines, or Parquet when DIR ends
 * in {@code .parquet}. Exit status as {@code qcow2 scan}'s.
 */
public final class ScanJob {
    private ScanJob() { }

    /** The files to scan, in the order a local scan reports them. */
    static List<ScanTargets.Target> targets(Configuration conf, List<String> paths) throws IOException {
        List<ScanTargets.Target> out = new ArrayList<>();
        for (String arg : paths) {
            if (HadoopScanFiles.isLocal(arg)) {
                String local = arg.startsWith("file:") ? java.nio.file.Path.of(java.net.URI.create(arg)).toString() : arg;
                out.addAll(ScanTargets.local(List.of(local)));
                continue;
            }
            Path p = new Path(java.net.URI.create(arg));
            FileSystem fs = p.getFileSystem(conf);
            FileStatus st;
            try {
                st = fs.getFileStatus(p);
            } catch (FileNotFoundException e) {
                out.add(new ScanTargets.Target(arg, true));
                continue;
            }
            if (!st.isDirectory()) {
                out.add(new ScanTargets.Target(arg, true));
                continue;
            }
            List<String> found = new ArrayList<>();
            walk(fs, st.getPath(), found);
            found.sort(null);
            for (String f : found) out.add(new ScanTargets.Target(f, false));
        }
        return out;
    }

    private static void walk(FileSystem fs, Path dir, List<String> found) throws IOException {
        FileStatus[] children = fs.listStatus(dir);
        Arrays.sort(children, Comparator.comparing(s -> s.getPath().toString()));
        for (FileStatus c : children) {
            if (c.isDirectory()) walk(fs, c.getPath(), found);
            else found.add(c.getPath().toString());
        }
    }

    /** The scan of {@code paths} as an RDD of records, one partition per few images. */
    public static JavaRDD<ScanRecord> records(SparkSession spark, List<String> paths, ScanOptions options) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        List<ScanTargets.Target> targets = targets(conf, paths);
        Map<String, String> settings = new HashMap<>();
        for (Map.Entry<String, String> e : conf) settings.put(e.getKey(), e.getValue());
        HadoopScanFiles files = new HadoopScanFiles(settings);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int slices = Math.max(1, Math.min(targets.size(), jsc.defaultParallelism() * 4));
        return jsc.parallelize(targets, slices)
                .flatMap(t -> ImageScan.scan(files, t.path(), t.named(), options).stream().iterator());
    }

    /** The records as the JSON lines {@code qcow2 scan --output=json} prints. */
    public static Dataset<String> jsonLines(SparkSession spark, JavaRDD<ScanRecord> records) {
        return spark.createDataset(records.map(ScanRecord::jsonLine).rdd(), Encoders.STRING());
    }

    public static void main(String[] args) throws IOException {
        quietLogging();
        String master = null;
        String out = null;
        String hash = null;
        boolean snapshots = false;
        boolean followBacking = false;
        List<String> allowBacking = new ArrayList<>();
        List<String> paths = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--master" -> master = args[++i];
                case "--out" -> out = args[++i];
                case "--hash" -> hash = args[++i];
                case "--snapshots" -> snapshots = true;
                case "--follow-backing" -> followBacking = true;
                case "--allow-backing" -> allowBacking.add(args[++i]);
                default -> paths.add(args[i]);
            }
        }
        ScanOptions options = new ScanOptions(hash == null ? List.of() : ScanOptions.parseAlgorithms(hash), snapshots, followBacking, allowBacking);
        SparkSession.Builder builder = SparkSession.builder().appName("qcow2 scan").config("spark.ui.enabled", "false");
        if (master != null) builder = builder.master(master);
        SparkSession spark = builder.getOrCreate();
        int exit = 0;
        try {
            JavaRDD<ScanRecord> records = records(spark, paths, options).persist(StorageLevel.MEMORY_AND_DISK());
            if (out == null) {
                PrintStream stdout = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, StandardCharsets.UTF_8);
                for (Iterator<ScanRecord> it = records.toLocalIterator(); it.hasNext(); ) {
                    ScanRecord r = it.next();
                    exit = ScanRecord.worse(exit, r.exitCode());
                    stdout.println(r.jsonLine());
                }
                stdout.flush();
            } else {
                Dataset<String> lines = jsonLines(spark, records);
                if (out.endsWith(".parquet")) spark.read().json(lines).write().parquet(out);
                else lines.write().text(out);
                long n = records.count();
                exit = n == 0 ? 0 : records.map(ScanRecord::exitCode).reduce(ScanRecord::worse);
                System.err.println("qcow2: " + n + " records written to " + out);
            }
        } finally {
            spark.stop();
        }
        System.exit(exit);
    }

    /** Spark's INFO logging off for a command-line run, unless the user configured log4j2 already. */
    private static void quietLogging() {
        if (System.getProperty("log4j2.configurationFile") != null) return;
        java.net.URL cfg = ScanJob.class.getResource("log4j2-cli.properties");
        if (cfg != null) System.setProperty("log4j2.configurationFile", cfg.toString());
    }
}
