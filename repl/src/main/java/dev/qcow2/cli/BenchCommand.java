package dev.qcow2.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** Placeholder: {@code qcow2 bench} is being written. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "(not yet available)")
final class BenchCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new Errors.CliException("bench: not yet available");
    }
}
