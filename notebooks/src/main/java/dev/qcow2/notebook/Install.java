package dev.qcow2.notebook;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * Installs the kernelspec "qcow2 toolkit (Java)": a folder {@code qcow2-java} holding
 * {@code kernel.json}, a copy of the kernel's class path ({@code lib/}: jars copied, class
 * folders packed into jars) and the kernel's AOT cache ({@code kernel.aot}).
 * <pre>
 * java -cp CLASSPATH dev.qcow2.notebook.Install [--no-cache] [--interrupt-mode=message|signal] [KERNELS_DIR]
 * </pre>
 * KERNELS_DIR defaults to {@code $JUPYTER_DATA_DIR/kernels}, else
 * {@code ~/.local/share/jupyter/kernels} (where {@code jupyter kernelspec list} looks on Linux).
 * <ul>
 * <li>The copy makes the installed kernel independent of the build: {@code mvn clean} or a
 *     rebuild never breaks it, and the AOT cache stays valid (it records the jars it was made
 *     from). Re-run the installer after changing the code.</li>
 * <li>The AOT cache (JDK 25, JEP 483/514/515, as the {@code ./qcow2} launcher makes one):
 *     one training JVM runs {@link KernelTraining} with {@code -XX:AOTCacheOutput}; kernel.json
 *     names it with {@code -XX:AOTCache} only when it was made. A JVM that cannot use it (another
 *     JDK) silently starts without it.</li>
 * <li>The JVM runs with C1 only ({@code -XX:TieredStopAtLevel=1}): it halves the CPU time of
 *     starting JShell and the Groovy compiler, and notebook images are small.</li>
 * <li>{@code "interrupt_mode": "message"}: Jupyter interrupts a cell with an interrupt_request
 *     on the control channel; SIGINT works as well ({@link KernelMain}).</li>
 * </ul>
 */
public final class Install {
    public static final String NAME = "qcow2-java";
    public static final String DISPLAY_NAME = "qcow2 toolkit (Java)";
    static final String CACHE = "kernel.aot";
    private static final long TRAINING_SECONDS = 300;

    /** JVM options of the kernel and of the training run (an AOT cache needs the same GC and class path). */
    static final List<String> JVM_OPTIONS = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
            "-Xlog:disable", "-Xlog:all=warning,cds*=off,aot*=off:stderr", "-Djava.awt.headless=true",
            "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow");

    private Install() { }

    public static void main(String[] args) {
        boolean cache = true;
        String mode = "message";
        Path kernels = null;
        for (String a : args) {
            if (a.equals("--no-cache")) cache = false;
            else if (a.startsWith("--interrupt-mode=")) mode = a.substring("--interrupt-mode=".length());
            else if (a.startsWith("-") || kernels != null) usage("unknown argument '" + a + "'");
            else kernels = Path.of(a);
        }
        if (!mode.equals("message") && !mode.equals("signal")) usage("--interrupt-mode is message or signal, not '" + mode + "'");
        if (kernels == null) kernels = userKernelsDir();
        try {
            Path spec = install(kernels, classPath(), mode, cache);
            boolean cached = Files.exists(spec.resolveSibling(CACHE));
            System.out.println("installed kernelspec '" + DISPLAY_NAME + "' in " + spec.getParent()
                    + (cached ? " (with its AOT cache)" : cache ? " (without an AOT cache: see " + spec.resolveSibling("aot.log") + ")" : ""));
        } catch (IOException e) {
            System.err.println(kernels + ": cannot install the kernelspec: " + e.getMessage());
            System.exit(1);
        }
    }

    private static void usage(String problem) {
        System.err.println("install-kernel: " + problem + "; usage: install-kernel.sh [--no-cache] [--interrupt-mode=message|signal] [KERNELS_DIR]");
        System.exit(2);
    }

    /** Installs with message interrupts and the AOT cache; returns the path of kernel.json. */
    public static Path install(Path kernels, List<String> classPath) throws IOException {
        return install(kernels, classPath, "message", true);
    }

    /** Writes {@code kernels/qcow2-java/} (lib/, kernel.aot when {@code cache}, kernel.json); returns kernel.json's path. */
    public static Path install(Path kernels, List<String> classPath, String interruptMode, boolean cache) throws IOException {
        Path dir = Files.createDirectories(kernels.resolve(NAME)).toAbsolutePath();
        Path lib = dir.resolve("lib");
        deleteTree(lib);
        Files.deleteIfExists(dir.resolve(CACHE));
        List<String> jars = copyClassPath(classPath, Files.createDirectories(lib));
        String java = javaCommand();
        boolean cached = cache && makeCache(dir, java, jars);
        return Files.writeString(dir.resolve("kernel.json"), kernelJson(java, jars, cached ? dir.resolve(CACHE) : null, interruptMode));
    }

    static String kernelJson(String java, List<String> classPath, Path cache, String interruptMode) {
        List<String> argv = new ArrayList<>(List.of(java));
        argv.addAll(JVM_OPTIONS);
        if (cache != null) argv.add("-XX:AOTCache=" + cache);
        argv.addAll(List.of("-cp", String.join(File.pathSeparator, classPath), KernelMain.class.getName(), "{connection_file}"));
        StringBuilder json = new StringBuilder("{\n  \"argv\": [");
        for (int i = 0; i < argv.size(); i++) json.append(i == 0 ? "" : ", ").append(quote(argv.get(i)));
        json.append("],\n  \"display_name\": ").append(quote(DISPLAY_NAME));
        json.append(",\n  \"language\": \"java\",\n  \"interrupt_mode\": ").append(quote(interruptMode)).append("\n}\n");
        return json.toString();
    }

    /** Copies each class path entry into {@code lib} in order: jars as they are, folders packed into a jar. */
    static List<String> copyClassPath(List<String> classPath, Path lib) throws IOException {
        List<String> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (String entry : classPath) {
            Path p = Path.of(entry);
            if (!Files.exists(p)) continue;
            boolean folder = Files.isDirectory(p);
            // target/classes of module "notebooks" -> notebooks.jar
            String name = folder ? (p.getParent() != null && p.getParent().getParent() != null ? p.getParent().getParent().getFileName() + ".jar" : "classes.jar")
                    : p.getFileName().toString();
            for (int n = 2; !names.add(name); n++) name = name.replaceFirst("(-\\d+)?\\.jar$", "-" + n + ".jar");
            Path target = lib.resolve(name);
            if (folder) pack(p, target);
            else Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
            out.add(target.toString());
        }
        return out;
    }

    private static void pack(Path folder, Path jar) throws IOException {
        try (OutputStream os = Files.newOutputStream(jar); var out = new JarOutputStream(os); Stream<Path> files = Files.walk(folder)) {
            for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                if (f.equals(folder)) continue;
                String name = folder.relativize(f).toString().replace(File.separatorChar, '/');
                if (Files.isDirectory(f)) {
                    out.putNextEntry(new JarEntry(name + "/"));
                } else {
                    out.putNextEntry(new JarEntry(name));
                    Files.copy(f, out);
                }
                out.closeEntry();
            }
        }
    }

    /** The training run; true when {@code dir/kernel.aot} was written. Its output goes to {@code dir/aot.log}. */
    static boolean makeCache(Path dir, String java, List<String> jars) {
        Path tmp = dir.resolve(CACHE + ".tmp");
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(JVM_OPTIONS);
        cmd.addAll(List.of("-XX:AOTCacheOutput=" + tmp, "-cp", String.join(File.pathSeparator, jars), KernelMain.class.getName(), "--train"));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("aot.log").toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            if (!p.waitFor(TRAINING_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                return false;
            }
            if (p.exitValue() != 0 || !Files.isRegularFile(tmp) || Files.size(tmp) == 0) return false;
            Files.move(tmp, dir.resolve(CACHE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return true;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // a leftover temporary file is harmless
            }
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> files = Files.walk(p)) {
            for (Path f : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) Files.delete(f);
        }
    }

    static Path userKernelsDir() {
        String data = System.getenv("JUPYTER_DATA_DIR");
        if (data != null && !data.isEmpty()) return Path.of(data, "kernels");
        return Path.of(System.getProperty("user.home"), ".local", "share", "jupyter", "kernels");
    }

    static String javaCommand() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** This JVM's class path, absolute. */
    static List<String> classPath() {
        List<String> out = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!e.isEmpty()) out.add(Path.of(e).toAbsolutePath().normalize().toString());
        }
        return out;
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }
}
