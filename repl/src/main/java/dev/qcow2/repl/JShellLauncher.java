package dev.qcow2.repl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code qcow2 jshell [FILE]}: the JDK's jshell with this toolkit's class path and a startup
 * snippet that imports the core packages (and {@code var image = Qcow2Image.open(...)} for FILE),
 * after jshell's own DEFAULT startup. Runs {@code $java.home/bin/jshell} with the terminal
 * inherited; returns its exit status.
 */
public final class JShellLauncher {
    static final List<String> PACKAGES = List.of("dev.qcow2", "dev.qcow2.image", "dev.qcow2.format", "dev.qcow2.mapping",
            "dev.qcow2.storage", "dev.qcow2.units", "dev.qcow2.check", "dev.qcow2.repair", "dev.qcow2.write",
            "dev.qcow2.create", "dev.qcow2.snapshot", "java.nio.file");

    private JShellLauncher() { }

    /**
     * The startup snippet: imports, the image opened as qemu-img opens it (following its backing
     * file), and {@code dsl("…")}: the DSL engine every other front end uses, in one session of
     * this JShell (made on first use, so Groovy loads only if asked for; FILE is open in it).
     */
    static String startup(String file) {
        StringBuilder s = new StringBuilder();
        for (String p : PACKAGES) s.append("import ").append(p).append(".*;\n");
        String lit = file == null ? "null" : "\"" + file.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        if (file != null) s.append("var image = Qcow2Image.open(Path.of(").append(lit).append("), OpenOptions.permissive());\n");
        s.append("Object dsl(String code) { return dev.qcow2.dsl.Dsl.shared(dev.qcow2.dsl.FrontEnd.JAVA, ").append(lit)
                .append(").evaluate(code); }\n");
        return s.toString();
    }

    /** The jshell command line (the specs run it with piped input). */
    static List<String> command(Path startupFile) {
        Path jshell = Path.of(System.getProperty("java.home"), "bin", "jshell");
        List<String> cmd = new ArrayList<>();
        cmd.add(jshell.toString());
        // our storage calls libc through java.lang.foreign: allowed without a warning in jshell's
        // own VM (-J) and in the remote VM that runs the snippets (-R)
        cmd.add("-J--enable-native-access=ALL-UNNAMED");
        cmd.add("-R--enable-native-access=ALL-UNNAMED");
        cmd.add("--class-path");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("--startup");
        cmd.add("DEFAULT");
        cmd.add("--startup");
        cmd.add(startupFile.toString());
        return cmd;
    }

    public static int launch(String file) throws IOException, InterruptedException {
        if (file != null && !Files.exists(Path.of(file))) throw new IOException("Could not open '" + file + "': No such file or directory");
        Path jshell = Path.of(System.getProperty("java.home"), "bin", "jshell");
        if (!Files.isExecutable(jshell)) throw new IOException(jshell + ": not found (qcow2 jshell needs a full JDK, not a JRE)");
        Path startup = Files.createTempFile("qcow2-jshell-", ".jsh");
        try {
            Files.writeString(startup, startup(file == null ? null : Path.of(file).toAbsolutePath().toString()));
            Process p = new ProcessBuilder(command(startup)).inheritIO().start();
            return p.waitFor();
        } finally {
            Files.deleteIfExists(startup);
        }
    }
}
