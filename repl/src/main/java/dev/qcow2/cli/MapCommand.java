package dev.qcow2.cli;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** Placeholder: {@code qcow2 map} is being written. */
@Command(name = "map", mixinStandardHelpOptions = true, description = "(not yet available)")
final class MapCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new Errors.CliException("map: not yet available");
    }
}
