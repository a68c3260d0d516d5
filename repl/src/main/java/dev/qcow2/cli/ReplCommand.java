package dev.qcow2.cli;

import dev.qcow2.repl.ReplLauncher;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * {@code qcow2 repl [FILE]}: the interactive investigation shell (Groovy DSL, JLine). Loads
 * Groovy only when it runs, so the other commands start without it.
 */
@Command(name = "repl", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = {"Investigate an image interactively with the Groovy DSL (tab completion, history, :help).",
                "Without FILE: opens a demo image built in a temporary directory.",
                "With piped input: runs the lines as commands (exit 1 if any failed)."})
final class ReplCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin AllowBackingOption allow;

    @Parameters(index = "0", arity = "0..1", paramLabel = "FILE", description = "The image to open (read-only).")
    String file;

    @Override
    public Integer call() throws Exception {
        // JLine takes the terminal itself when stdin is the process's and a console is attached
        Streams streams = Streams.of(spec);
        return ReplLauncher.launch(file, streams.in(), streams.out(), streams.err(), allow.policy());
    }
}
