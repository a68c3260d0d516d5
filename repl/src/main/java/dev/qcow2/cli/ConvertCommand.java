package dev.qcow2.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** Placeholder: {@code qcow2 convert} is being written. */
@Command(name = "convert", mixinStandardHelpOptions = true, description = "(not yet available)")
final class ConvertCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new Errors.CliException("convert: not yet available");
    }
}
