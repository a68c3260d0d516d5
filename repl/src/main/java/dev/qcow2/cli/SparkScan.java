package dev.qcow2.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.qcow2.scan.ScanOptions;
import dev.qcow2.scan.ScanRecord;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code qcow2 scan --spark=MASTER}: runs the spark module's job ({@code dev.qcow2.spark.ScanJob})
 * in a child JVM. The module is not part of the CLI's build (root pom profile {@code spark}): the
 * first run builds it and has Maven fetch Spark ({@code mvn -Pspark -pl core,spark package
 * dependency:build-classpath}), then keeps the class path in {@code .qcow2-build/spark/} (the two
 * project jars copied there, Spark's from Maven's local repository); later runs start at once
 * until a source or pom of core/spark changes.
 *
 * <p>The child runs on this JVM's Java (25): Spark 4.1 runs there in local mode with the module
 * flags Spark's own launcher adds ({@link #JVM_FLAGS}) and Hadoop 3.5's client (3.4's calls
 * Subject.getSubject, which throws on Java 23+).
 */
final class SparkScan {
    /** Spark's JavaModuleOptions plus the native-access/Unsafe flags that keep Java 25 quiet. */
    static final List<String> JVM_FLAGS = List.of("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
            "-XX:+IgnoreUnrecognizedVMOptions", "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED", "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED", "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
            "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED", "-Djdk.reflect.useDirectMethodHandle=false",
            "-Dio.netty.tryReflectionSetAccessible=true");

    private SparkScan() { }

    static int run(String master, String out, ScanOptions options, List<String> paths, boolean json,
                   PrintWriter stdout, PrintWriter err) throws IOException, InterruptedException {
        // human output: the job's JSON lines, read back and rendered as the local scan renders its records
        boolean table = !json && out == null;
        Path root = projectRoot();
        String classpath = classpath(root, err);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(JVM_FLAGS);
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.add("dev.qcow2.spark.ScanJob");
        cmd.add("--master");
        cmd.add(master);
        if (out != null) {
            cmd.add("--out");
            cmd.add(out);
        }
        if (!options.hashAlgorithms().isEmpty()) {
            cmd.add("--hash");
            cmd.add(String.join(",", options.hashAlgorithms()));
        }
        if (options.snapshots()) cmd.add("--snapshots");
        if (options.followBacking()) cmd.add("--follow-backing");
        for (String dir : options.allowBacking()) {
            cmd.add("--allow-backing");
            cmd.add(dir);
        }
        cmd.addAll(paths);
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.INHERIT).start();
        Thread errPump = Thread.ofPlatform().daemon().start(() -> pump(p.getErrorStream(), err));
        if (!table) {
            pump(p.getInputStream(), stdout);
            int exit = p.waitFor();
            errPump.join();
            return exit;
        }
        List<ScanRecord> records = new ArrayList<>();
        String bad = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank()) continue;
                try {
                    Map<String, Object> m = QemuJson.mapper().readValue(line, new TypeReference<Map<String, Object>>() { });
                    records.add(ScanRecord.fromJson(m));
                } catch (IOException | IllegalArgumentException e) {
                    if (bad == null) bad = line;
                }
            }
        }
        int exit = p.waitFor();
        errPump.join();
        if (bad != null) throw new Errors.CliException("scan --spark: the job wrote a line that is not a scan record: " + bad);
        stdout.print(ScanTable.render(records, options));
        stdout.println(ScanTable.summary(records, (System.nanoTime() - t0) / 1e9));
        stdout.flush();
        return exit;
    }

    private static void pump(InputStream in, PrintWriter to) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                synchronized (to) {
                    to.println(line);
                    to.flush();
                }
            }
        } catch (IOException ignored) {
            // the child ended: nothing more to copy
        }
    }

    /** The checkout holding spark/pom.xml: $QCOW2_HOME, else the first ancestor of this code's location that has it. */
    static Path projectRoot() {
        String home = System.getenv("QCOW2_HOME");
        if (home != null && Files.isRegularFile(Path.of(home, "spark", "pom.xml"))) return Path.of(home);
        try {
            Path p = Path.of(SparkScan.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
            for (; p != null; p = p.getParent()) {
                if (Files.isRegularFile(p.resolve("spark").resolve("pom.xml"))) return p;
            }
        } catch (Exception ignored) {
            // fall through to the message
        }
        throw new Errors.CliException("--spark: cannot find the project's spark module (set QCOW2_HOME to the checkout)");
    }

    /** The job's class path, built once (see the class comment) and kept while core and spark are unchanged. */
    private static String classpath(Path root, PrintWriter err) throws IOException, InterruptedException {
        Path cache = root.resolve(".qcow2-build").resolve("spark");
        Path cpFile = cache.resolve("classpath");
        if (fresh(root, cpFile)) return Files.readString(cpFile).strip();
        Files.createDirectories(cache);
        Path log = cache.resolve("build.log");
        err.println("qcow2: building the spark module; Maven fetches Spark on first use (log: " + log + ") ...");
        err.flush();
        Process mvn = new ProcessBuilder("mvn", "-q", "-B", "-Pspark", "-pl", "core,spark", "-DskipTests", "package",
                "dependency:build-classpath", "-Dmdep.outputFile=target/runtime-classpath.txt", "-Dmdep.includeScope=compile")
                .directory(root.toFile()).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.PIPE).start();
        mvn.getOutputStream().close();
        int rc = mvn.waitFor();
        if (rc != 0) throw new Errors.CliException("--spark: building the spark module failed (mvn exit status " + rc + "); log: " + log);
        Path sparkJar = jar(root.resolve("spark/target"), "qcow2-spark-");
        Path coreJar = jar(root.resolve("core/target"), "qcow2-core-");
        Path sparkCopy = Files.copy(sparkJar, cache.resolve("qcow2-spark.jar"), StandardCopyOption.REPLACE_EXISTING);
        Path coreCopy = Files.copy(coreJar, cache.resolve("qcow2-core.jar"), StandardCopyOption.REPLACE_EXISTING);
        List<String> entries = new ArrayList<>(List.of(sparkCopy.toString(), coreCopy.toString()));
        for (String e : Files.readString(root.resolve("spark/target/runtime-classpath.txt")).strip().split(java.io.File.pathSeparator)) {
            if (!e.isEmpty() && !e.contains("qcow2-core") && !e.endsWith("core/target/classes")) entries.add(e);
        }
        String cp = String.join(java.io.File.pathSeparator, entries);
        Files.writeString(cpFile, cp + "\n");
        return cp;
    }

    private static Path jar(Path dir, String prefix) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(prefix) && n.endsWith(".jar") && !n.endsWith("-tests.jar") && !n.endsWith("-sources.jar");
            }).findFirst().orElseThrow(() -> new Errors.CliException("--spark: the build made no " + prefix + "*.jar in " + dir));
        }
    }

    /** The cached class path exists, names only existing files, and is newer than every pom and main source of core and spark. */
    private static boolean fresh(Path root, Path cpFile) throws IOException {
        if (!Files.isRegularFile(cpFile)) return false;
        FileTime made = Files.getLastModifiedTime(cpFile);
        for (String e : Files.readString(cpFile).strip().split(java.io.File.pathSeparator)) {
            if (!Files.exists(Path.of(e))) return false;
        }
        List<Path> sources = List.of(root.resolve("pom.xml"), root.resolve("core/pom.xml"), root.resolve("spark/pom.xml"),
                root.resolve("core/src/main"), root.resolve("spark/src/main"));
        for (Path s : sources) {
            if (!Files.exists(s)) continue;
            try (Stream<Path> all = Files.walk(s)) {
                if (all.anyMatch(p -> {
                    try {
                        return Files.getLastModifiedTime(p).compareTo(made) > 0;
                    } catch (IOException e) {
                        return true;
                    }
                })) return false;
            }
        }
        return true;
    }
}
