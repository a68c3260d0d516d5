package dev.qcow2.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** Placeholder: {@code qcow2 check} is being written. */
@Command(name = "check", mixinStandardHelpOptions = true, description = "(not yet available)")
final class CheckCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new Errors.CliException("check: not yet available");
    }
}
