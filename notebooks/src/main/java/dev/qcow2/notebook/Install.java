package dev.qcow2.notebook;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Installs the kernelspec "qcow2 toolkit (Java)": a folder {@code qcow2-java} with a
 * {@code kernel.json} that starts {@link KernelMain} with this JVM and this class path.
 * <pre>
 * java -cp CLASSPATH dev.qcow2.notebook.Install                 # for the current user
 * java -cp CLASSPATH dev.qcow2.notebook.Install KERNELS_DIR     # e.g. $JUPYTER_PATH/kernels in a test
 * </pre>
 * The JVM runs with C1 only ({@code -XX:TieredStopAtLevel=1}): it halves the CPU time of
 * starting JShell and the Groovy compiler, and notebook images are small.
 * The user folder is {@code $JUPYTER_DATA_DIR/kernels}, else {@code ~/.local/share/jupyter/kernels}
 * (where {@code jupyter kernelspec list} looks on Linux).
 */
public final class Install {
    public static final String NAME = "qcow2-java";
    public static final String DISPLAY_NAME = "qcow2 toolkit (Java)";

    private Install() { }

    public static void main(String[] args) {
        Path kernels = args.length > 0 ? Path.of(args[0]) : userKernelsDir();
        try {
            Path spec = install(kernels, classPath());
            System.out.println("installed kernelspec '" + DISPLAY_NAME + "' in " + spec.getParent());
        } catch (IOException e) {
            System.err.println(kernels + ": cannot install the kernelspec: " + e.getMessage());
            System.exit(1);
        }
    }

    /** Writes {@code kernels/qcow2-java/kernel.json}; returns its path. */
    public static Path install(Path kernels, List<String> classPath) throws IOException {
        Path dir = Files.createDirectories(kernels.resolve(NAME));
        return Files.writeString(dir.resolve("kernel.json"), kernelJson(javaCommand(), classPath));
    }

    static String kernelJson(String java, List<String> classPath) {
        List<String> argv = List.of(java, "-Xshare:auto", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
                "--enable-native-access=ALL-UNNAMED", "-cp", String.join(File.pathSeparator, classPath), KernelMain.class.getName(), "{connection_file}");
        StringBuilder json = new StringBuilder("{\n  \"argv\": [");
        for (int i = 0; i < argv.size(); i++) json.append(i == 0 ? "" : ", ").append(quote(argv.get(i)));
        json.append("],\n  \"display_name\": ").append(quote(DISPLAY_NAME));
        json.append(",\n  \"language\": \"java\",\n  \"interrupt_mode\": \"message\"\n}\n");
        return json.toString();
    }

    static Path userKernelsDir() {
        String data = System.getenv("JUPYTER_DATA_DIR");
        if (data != null && !data.isEmpty()) return Path.of(data, "kernels");
        return Path.of(System.getProperty("user.home"), ".local", "share", "jupyter", "kernels");
    }

    static String javaCommand() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** This JVM's class path, absolute (the kernel starts in the notebook's folder). */
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
