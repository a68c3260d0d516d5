package dev.qcow2.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;

/**
 * The standard streams of one {@code qcow2} command line: the process's for the launcher
 * ({@link #system()}), in-memory ones for tests. {@link Main#run(Streams, String...)} hands
 * {@code out} and {@code err} to picocli as the command line's writers, so commands print text
 * through {@code spec.commandLine().getOut()/getErr()}; the byte streams are for the few that
 * need bytes (convert to {@code -}), stdin (io, repl) or a {@link PrintStream} (repl, run).
 *
 * <p>Invariant: a command that writes bytes to {@link #out} flushes its text writer first, so
 * text and bytes reach stdout in the order they were written.
 */
record Streams(InputStream in, PrintStream out, PrintStream err) {
    /** The process's stdin, stdout and stderr. */
    static Streams system() {
        return new Streams(System.in, System.out, System.err);
    }

    /** A text writer over {@code stream} in the stream's charset, flushed on println (as picocli's default writers). */
    static PrintWriter writer(PrintStream stream) {
        return new PrintWriter(new OutputStreamWriter(stream, stream.charset()), true);
    }

    /** The streams of the command line {@code spec} belongs to (set by {@link Main#commandLine}). */
    static Streams of(CommandSpec spec) {
        CommandLine root = spec.commandLine();
        while (root.getParent() != null) root = root.getParent();
        return ((Main) root.getCommand()).streams;
    }
}
