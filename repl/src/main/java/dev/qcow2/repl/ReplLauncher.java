package dev.qcow2.repl;

import dev.qcow2.dsl.DslException;
import dev.qcow2.dsl.DslShell;
import dev.qcow2.dsl.FrontEnd;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * {@code qcow2 repl [FILE]}: opens FILE (or a fresh demo image, see {@link DemoImage}) in a DSL
 * session, then runs the interactive {@link Repl} when stdin and stdout are a terminal, else
 * {@link Batch} over stdin. History: {@code $QCOW2_HISTORY}, default {@code $HOME/.qcow2_history}.
 */
public final class ReplLauncher {
    static final String DEMO_HINT = String.join("\n",
            "This is a demo image made just now in %s: demo.qcow2 (8 MiB) on a backing file base.qcow2,",
            "with snapshots 'before' and 'after', compressed clusters, a zeroed range and one leaked",
            "cluster. Try: info · check · map · snapshot.list · snapshot.diff 'before', 'after' ·",
            "walk(l2).findAll { it.compressed } · refcounts.leaks · read 0x30010, 16 · find 'BOOT' ·",
            "cluster 0 · help. Tab completes, :help explains, :quit leaves (the demo is then deleted).");

    private ReplLauncher() { }

    /**
     * Runs the REPL on FILE (null: the demo image): interactive on the terminal when {@code in} is
     * the process's stdin and there is a console, else lines from {@code in}, results (and what
     * they print, Groovy's {@code out}) to {@code out}, errors to {@code err}.
     */
    public static int launch(String file, InputStream in, PrintStream out, PrintStream err) throws IOException {
        return launch(file, in, out, err, dev.qcow2.image.FollowPolicy.imageTree());
    }

    /** {@link #launch(String, InputStream, PrintStream, PrintStream)}; opens without {@code follow:} use {@code follow}. */
    public static int launch(String file, InputStream in, PrintStream out, PrintStream err, dev.qcow2.image.FollowPolicy follow)
            throws IOException {
        Path demoDir = null;
        String banner = "qcow2 repl — Groovy DSL over qcow2 images; :help for commands, :quit to leave.";
        DslShell shell = new DslShell();
        shell.setFrontEnd(FrontEnd.REPL);
        shell.getSession().setDefaultFollow(follow);
        try (Evaluator evaluator = new Evaluator(shell)) {
            if (file == null) {
                demoDir = Files.createTempDirectory("qcow2-demo-");
                Path demo = DemoImage.create(demoDir);
                evaluator.shell().getSession().open(demo.toString());
                banner += "\n" + String.format(DEMO_HINT, demoDir);
            }
            if (in != System.in || System.console() == null) {
                if (file != null && !open(evaluator, file, err)) return 1;
                evaluator.shell().getBinding().setVariable("out", out);
                return new Batch(evaluator, out, err).run(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)));
            }
            try (Terminal terminal = TerminalBuilder.builder().system(true).name("qcow2").build()) {
                // the Repl first: it can ask for the passphrase of an encrypted FILE
                Repl repl = new Repl(terminal, evaluator, historyFile());
                if (file != null && !open(evaluator, file, err)) return 1;
                return repl.run(banner);
            }
        } finally {
            if (demoDir != null) deleteTree(demoDir);
        }
    }

    private static boolean open(Evaluator evaluator, String file, PrintStream err) {
        try {
            evaluator.shell().getSession().open(file);
            return true;
        } catch (DslException e) {
            err.println("qcow2: " + e.getMessage());
            return false;
        }
    }

    static Path historyFile() {
        String env = System.getenv("QCOW2_HISTORY");
        if (env != null && !env.isBlank()) return Path.of(env);
        String home = System.getenv("HOME");
        return Path.of(home != null && !home.isBlank() ? home : System.getProperty("user.home"), ".qcow2_history");
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temp dir left behind is harmless
        }
    }
}
