package dev.qcow2.cli;

import dev.qcow2.repl.JShellLauncher;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

/** {@code qcow2 jshell [FILE]}: JShell with the toolkit on the class path, its packages imported, FILE open as {@code image}. */
@Command(name = "jshell", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = {"Start JShell with the toolkit on the class path and its packages imported.",
                "With FILE: 'image' is Qcow2Image.open(FILE) (read-only, following its backing file)."})
final class JShellCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "FILE", description = "An image to open as 'image'.")
    String file;

    @Override
    public Integer call() throws Exception {
        return JShellLauncher.launch(file);
    }
}
