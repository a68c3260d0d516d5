package dev.qcow2.repl;

import dev.qcow2.dsl.Completions;
import dev.qcow2.dsl.DslShell;
import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.utils.AttributedString;
import org.jline.utils.AttributedStyle;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The interactive REPL on a JLine terminal: completion (the engine's, {@link DslShell#complete}), history in
 * {@code history} (written after every line), multi-line input ({@link DslParser}), the open image
 * in the prompt, Ctrl-C to cancel a running command (the session stays), Ctrl-C at the prompt to
 * drop the line, Ctrl-D on an empty line or {@code :quit} to leave. On a dumb terminal: no
 * colors, no paging, no progress bar; long output pages ({@link Pager}) and long commands
 * (check, export, find, snapshot.diff) show a {@link ProgressBar} only on a real one.
 */
public final class Repl {
    private final Terminal terminal;
    private final Evaluator evaluator;
    private final Commands commands;
    private final LineReader reader;
    private final boolean fancy;
    private final ProgressBar progress;

    public Repl(Terminal terminal, Evaluator evaluator, Path history) {
        this(terminal, evaluator, history, Duration.ofMillis(300));
    }

    /** {@code progressDelay}: how long a command runs before its progress bar appears. */
    Repl(Terminal terminal, Evaluator evaluator, Path history, Duration progressDelay) {
        this.terminal = terminal;
        this.evaluator = evaluator;
        this.commands = new Commands(evaluator);
        this.fancy = isReal(terminal);
        this.progress = fancy ? new ProgressBar(terminal, progressDelay) : null;
        this.reader = LineReaderBuilder.builder()
                .terminal(terminal)
                .appName("qcow2")
                .parser(new DslParser(evaluator.shell()))
                .completer(completer(evaluator.shell()))
                .history(new RedactingHistory())
                .variable(LineReader.HISTORY_FILE, history)
                .variable(LineReader.SECONDARY_PROMPT_PATTERN, "%P...> ")
                .variable(LineReader.INDENTATION, 2)
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)   // '!' is Groovy's not
                .option(LineReader.Option.INSERT_TAB, false)
                .build();
        // an encrypted layer opened without its passphrase: ask on this terminal, without echo
        evaluator.shell().getSession().setPassphrasePrompt(new PassphrasePrompt(terminal));
    }

    public LineReader reader() { return reader; }

    /** JLine's view of the engine's completion: the candidates replace the parser's word (the same word the engine sees). */
    static Completer completer(DslShell shell) {
        return (reader, line, candidates) -> {
            for (Completions.Candidate c : shell.complete(line.line(), line.cursor()).getCandidates()) {
                candidates.add(new Candidate(c.getValue(), c.getDisplay(), c.getGroup(), null, null, null, c.getComplete()));
            }
        };
    }

    /** A terminal that can show colors and page: not JLine's dumb (or dumb-color) one. */
    static boolean isReal(Terminal t) {
        return !t.getType().startsWith(Terminal.TYPE_DUMB);
    }

    /** Reads and runs input until :quit or end of input; returns the exit status. */
    public int run(String banner) {
        PrintWriter out = terminal.writer();
        if (banner != null && !banner.isEmpty()) out.println(banner);
        out.flush();
        Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.INT, s -> evaluator.cancel());
        var session = evaluator.shell().getSession();
        if (progress != null) session.setProgress(progress);
        try {
            while (true) {
                String line;
                try {
                    line = reader.readLine(prompt());
                } catch (UserInterruptException e) {
                    continue;                    // Ctrl-C at the prompt drops the line
                } catch (EndOfFileException e) {
                    return 0;
                }
                Commands.Reply r = commands.handle(line);
                if (r.quit()) return r.status();
                show(r);
            }
        } finally {
            if (progress != null && session.getProgress() == progress) session.setProgress(null);
            terminal.handle(Terminal.Signal.INT, previous);
            try {
                reader.getHistory().save();
            } catch (IOException e) {
                out.println("qcow2: could not save history: " + e.getMessage());
            }
            out.flush();
        }
    }

    private String prompt() {
        String label = evaluator.shell().getSession().getLabel();
        String p = "qcow2 " + label + "> ";
        return fancy ? new AttributedString(p, AttributedStyle.BOLD.foreground(AttributedStyle.CYAN)).toAnsi(terminal) : p;
    }

    private void show(Commands.Reply r) {
        if (progress != null) progress.clear();     // a cancelled or failed command left its bar
        PrintWriter out = terminal.writer();
        if (r.error() != null) {
            String line = r.error();
            out.println(fancy ? new AttributedString(line, AttributedStyle.DEFAULT.foreground(AttributedStyle.RED)).toAnsi(terminal) : line);
        } else if (!r.text().isEmpty()) {
            if (fancy) Pager.show(terminal, r.text());
            else out.println(r.text());
        }
        out.flush();
    }
}
