package dev.qcow2.repl;

import dev.qcow2.dsl.Dsl;
import dev.qcow2.dsl.DslException;
import dev.qcow2.dsl.Help;

import java.nio.file.Path;

/**
 * What one complete input does, for both front ends (the terminal REPL and piped input):
 * {@code :help [word]} (the engine's {@code help}), {@code :load FILE}, {@code :quit [N]}, or DSL
 * code evaluated by the {@link Evaluator}. The reply is text to print, or one error line, or a
 * request to quit. The REPL's own words are listed in {@code help} with where they apply.
 */
public final class Commands {
    /** {@code text}: output (may be empty); {@code error}: the one line to show; {@code quit}: leave with {@code status}. */
    public record Reply(String text, String error, boolean quit, int status) {
        static Reply text(String t) { return new Reply(t, null, false, 0); }
        static Reply error(String e) { return new Reply("", e, false, 0); }
    }

    public static final String KEYS = "Ctrl-C cancels a running command; Tab completes; Ctrl-D on an empty line leaves.";

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
            default -> { return Reply.error("unknown REPL command '" + parts[0] + "'; use :help, :load FILE or :quit (help lists every word)"); }
        }
    }

    static Reply help(String name) {
        if (name.isEmpty()) return Reply.text(Help.table() + "\n" + KEYS);
        try {
            var e = Help.one(name.replaceAll("^['\"]|['\"]$", ""));
            return Reply.text(e.getAt("command") + " — " + e.getAt("what") + " (" + e.getAt("where") + ")\n  " + e.getAt("example"));
        } catch (DslException e) {
            return Reply.error(e.getMessage());
        }
    }

    private static Reply reply(Evaluator.Outcome o) {
        if (!o.ok()) return Reply.error(o.error());
        return Reply.text(o.value() == null ? "" : Dsl.render(o.value(), "text"));
    }
}
