package dev.qcow2.cli;

import dev.qcow2.write.Qcow2Writer;
import dev.qcow2.write.WriteOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code qcow2 io}: qemu-io's commands on a qcow2 image opened for writing. Each {@code -c}
 * runs in order (all of them, like qemu-io, even after one fails); without {@code -c} the
 * commands are read from standard input, one a line. Exit status 1 when any command failed.
 */
@Command(name = "io", mixinStandardHelpOptions = true,
        description = "Run qemu-io commands (read, write, discard, flush, map) on an image.")
final class IoCommand implements Callable<Integer> {
    @Option(names = {"-f", "--format"}, paramLabel = "FMT", description = "Image format (only qcow2 can be written).")
    String format;

    @Option(names = {"-c", "--cmd"}, paramLabel = "COMMAND", description = "A qemu-io command; repeatable.")
    List<String> commands;

    @Parameters(paramLabel = "FILE", description = "The image.")
    String file;

    @Override
    public Integer call() throws Exception {
        if (format != null && !format.equals("qcow2")) {
            throw new Errors.CliException("io: only qcow2 images can be opened, not '" + format + "'");
        }
        boolean ok = true;
        try (Qcow2Writer image = Qcow2Writer.open(Path.of(file), WriteOptions.defaults())) {
            IoCommands runner = new IoCommands(image, System.out, System.err);
            if (commands != null) {
                for (String c : commands) ok &= runner.run(c);
            } else {
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.trim().equals("quit") || line.trim().equals("q")) break;
                    ok &= runner.run(line);
                }
            }
        }
        System.out.flush();
        return ok ? 0 : Errors.EXIT_ERROR;
    }
}
