package dev.qcow2.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** Placeholder: {@code qcow2 dump} is being written. */
@Command(name = "dump", mixinStandardHelpOptions = true, description = "(not yet available)")
final class DumpCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new Errors.CliException("dump: not yet available");
    }
}
