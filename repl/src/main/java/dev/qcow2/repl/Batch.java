package dev.qcow2.repl;

import dev.qcow2.dsl.DslShell;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;

/**
 * The REPL on piped input ({@code qcow2 repl disk.qcow2 < commands.txt}): no prompt, no colors,
 * no paging. Lines are read one by one; a line that leaves a brace, bracket or string open is
 * joined with the next ones until the input is complete. Results go to stdout as text, errors to
 * stderr as {@code qcow2: line N: message}, and reading goes on. Exit status: {@code :quit N}'s
 * N, else 1 if any input failed, else 0.
 */
public final class Batch {
    private final Commands commands;
    private final DslShell shell;
    private final PrintStream out;
    private final PrintStream err;

    public Batch(Evaluator evaluator, PrintStream out, PrintStream err) {
        this.commands = new Commands(evaluator);
        this.shell = evaluator.shell();
        this.out = out;
        this.err = err;
    }

    public int run(BufferedReader in) throws IOException {
        boolean failed = false;
        StringBuilder pending = new StringBuilder();
        int lineNo = 0;
        int firstLine = 0;
        String line;
        while ((line = in.readLine()) != null) {
            lineNo++;
            if (pending.isEmpty()) firstLine = lineNo;
            pending.append(line).append('\n');
            String input = pending.toString();
            if (!input.strip().startsWith(":") && shell.completeness(input) == DslShell.Completeness.INCOMPLETE) continue;
            pending.setLength(0);
            Commands.Reply r = commands.handle(input);
            if (r.quit()) return r.status();
            failed |= show(r, firstLine);
        }
        if (!pending.isEmpty()) failed |= show(commands.handle(pending.toString()), firstLine);
        return failed ? 1 : 0;
    }

    private boolean show(Commands.Reply r, int line) {
        if (r.error() != null) {
            out.flush();
            err.println("qcow2: line " + line + ": " + r.error());
            err.flush();
            return true;
        }
        if (!r.text().isEmpty()) out.println(r.text());
        out.flush();
        return false;
    }
}
