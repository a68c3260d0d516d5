package dev.qcow2.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** Placeholder: {@code qcow2 compare} is being written. */
@Command(name = "compare", mixinStandardHelpOptions = true, description = "(not yet available)")
final class CompareCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new Errors.CliException("compare: not yet available");
    }
}
