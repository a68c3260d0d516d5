package dev.qcow2.repl;

import dev.qcow2.dsl.Dsl;
import dev.qcow2.dsl.Help;

import java.nio.file.Path;
import java.util.List;

/**
 * What one complete input does, for both front ends (the terminal REPL and piped input):
 * {@code :help [command]}, {@code :load FILE}, {@code :quit [N]}, or DSL code evaluated by the
 * {@link Evaluator}. The reply is text to print, or one error line, or a request to quit.
 */
public final class Commands {
    /** {@code text}: output (may be empty); {@code error}: the one line to show; {@code quit}: leave with {@code status}. */
    public record Reply(String text, String error, boolean quit, int status) {
        static Reply text(String t) { return new Reply(t, null, false, 0); }
        static Reply error(String e) { return new Reply("", e, false, 0); }
    }

    public static final String META_HELP = String.join("\n",
            ":help [command]   this list, or one command's usage",
            ":load FILE        run a script file in this session",
            ":quit [N]         leave (exit status N, default 0)",
            "Ctrl-C cancels a running command; Tab completes; Ctrl-D on an empty line leaves.");

    private final Evaluator evaluator;

    public Commands(Evaluator evaluator) { this.evaluator = evaluator; }

    public Reply handle(String input) {
        String in = input.strip();
        if (in.isEmpty()) return Reply.text("");
        if (in.startsWith(":")) return meta(in);
        return reply(evaluator.evaluate(input));
    }

    private Reply meta(String in) {
        String[] parts = in.split("\\s+", 2);
        String arg = parts.length > 1 ? parts[1].strip() : "";
        switch (parts[0]) {
            case ":quit", ":q", ":exit" -> {
                if (arg.isEmpty()) return new Reply("", null, true, 0);
                try {
                    return new Reply("", null, true, Integer.parseInt(arg));
                } catch (NumberFormatException e) {
                    return Reply.error(":quit takes an exit status (a number), not '" + arg + "'");
                }
            }
            case ":help", ":h" -> { return help(arg); }
            case ":load", ":l" -> {
                if (arg.isEmpty()) return Reply.error(":load needs a file: :load script.groovy");
                String file = arg.replaceAll("^['\"]|['\"]$", "");
                return reply(evaluator.load(Path.of(file)));
            }
            default -> { return Reply.error("unknown REPL command '" + parts[0] + "'; use :help, :load FILE or :quit"); }
        }
    }

    static Reply help(String name) {
        if (name.isEmpty()) return Reply.text(Help.table() + "\n" + META_HELP);
        for (List<String> c : Help.getCOMMANDS()) {
            if (c.get(0).equals(name)) return Reply.text(c.get(0) + " — " + c.get(2) + "\n  " + c.get(1));
        }
        return Reply.error("no command '" + name + "'; commands: " + String.join(", ", Help.names()));
    }

    private static Reply reply(Evaluator.Outcome o) {
        if (!o.ok()) return Reply.error(o.error());
        return Reply.text(o.value() == null ? "" : Dsl.render(o.value(), "text"));
    }
}
