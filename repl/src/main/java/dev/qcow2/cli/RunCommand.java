package dev.qcow2.cli;

import dev.qcow2.repl.ScriptRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code qcow2 run SCRIPT [ARGS...]}: runs a DSL script; exits with its status ({@code exit N},
 * or an integer last value); a failure is one line {@code qcow2: SCRIPT: message} and status 1.
 */
@Command(name = "run", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = {"Run a Groovy DSL script (see scripts/) with ARGS bound to 'args'.",
                "Exit status: the script's 'exit N', or its last value if that is an integer, else 0; 1 on failure."})
final class RunCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin AllowBackingOption allow;

    @Parameters(index = "0", paramLabel = "SCRIPT", description = "The script file (.groovy).")
    String script;

    @Parameters(index = "1..*", paramLabel = "ARGS", description = "Arguments for the script.")
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() {
        Streams streams = Streams.of(spec);
        return ScriptRunner.run(Path.of(script), args, streams.out(), streams.err(), allow.policy());
    }
}
