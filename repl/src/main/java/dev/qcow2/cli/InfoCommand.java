package dev.qcow2.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** Placeholder: {@code qcow2 info} is being written. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "(not yet available)")
final class InfoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new Errors.CliException("info: not yet available");
    }
}
