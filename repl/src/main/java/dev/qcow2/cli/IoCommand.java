package dev.qcow2.cli;

import dev.qcow2.write.Qcow2Writer;
import dev.qcow2.write.WriteOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code qcow2 io}: qemu-io's commands on a qcow2 image opened for writing. Each {@code -c}
 * runs in order (all of them, like qemu-io, even after one fails); without {@code -c} the
 * commands are read from standard input, one a line. Exit status 1 when any command failed.
 */
@Command(name = "io", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = "Run qemu-io commands (read, write, discard, flush, map) on an image.")
final class IoCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin FormatOption formatOption;

    @Option(names = {"-c", "--cmd"}, paramLabel = "COMMAND", description = "A qemu-io command; repeatable.")
    List<String> commands;

    @Mixin ObjectOption objects;

    @Mixin ImageOptsOption imageOpts;

    @Mixin AllowBackingOption allow;

    @Parameters(paramLabel = "FILE", description = "The image.")
    String file;

    @Override
    public Integer call() throws Exception {
        ImageArg image = objects.image(file, formatOption.value, imageOpts, spec.commandLine().getErr());
        String format = image.format();
        if (format != null && !format.equals("qcow2")) {
            throw new Errors.CliException("io: only qcow2 images can be opened, not '" + format + "'");
        }
        boolean ok = true;
        try (Qcow2Writer writer = Qcow2Writer.open(image.path(), allow.apply(WriteOptions.defaults().withSecrets(image.lookup())))) {
            PrintWriter out = spec.commandLine().getOut();
            IoCommands runner = new IoCommands(writer, out, spec.commandLine().getErr());
            // each command's report is flushed before the next runs (its errors go to stderr unbuffered)
            if (commands != null) {
                for (String c : commands) {
                    ok &= runner.run(c);
                    out.flush();
                }
            } else {
                BufferedReader in = new BufferedReader(new InputStreamReader(Streams.of(spec).in(), StandardCharsets.UTF_8));
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.trim().equals("quit") || line.trim().equals("q")) break;
                    ok &= runner.run(line);
                    out.flush();
                }
            }
        }
        return ok ? 0 : Errors.EXIT_ERROR;
    }
}
