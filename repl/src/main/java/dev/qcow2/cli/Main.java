package dev.qcow2.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code qcow2} command: subcommands mirror qemu-img where they overlap (same options,
 * same JSON, same exit codes). Errors are one line on stderr, {@code qcow2: FILE: what is wrong};
 * {@code --debug} (anywhere on the command line) adds the stack trace.
 */
@Command(name = "qcow2", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Inspect, check, repair, create and change qcow2 disk images (a pure-Java qemu-img).",
        subcommands = {
                InfoCommand.class,
                MapCommand.class,
                CheckCommand.class,
                UndoCommand.class,
                ConvertCommand.class,
                CompareCommand.class,
                DumpCommand.class,
                BenchCommand.class,
                CreateCommand.class,
                IoCommand.class,
                SnapshotCommand.class,
                ResizeCommand.class,
                CommitCommand.class,
                RebaseCommand.class,
                MeasureCommand.class,
                AmendCommand.class,
                ReplCommand.class, RunCommand.class, JShellCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class Main implements Runnable {
    static {
        // picocli would load (and initialise) groovy.lang.Closure, now on the class path for the
        // repl/run commands: that costs ~0.5 s of Groovy runtime start-up on every command.
        if (System.getProperty("picocli.disable.closures") == null) System.setProperty("picocli.disable.closures", "true");
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (for tests and the launcher). */
    public static int run(String... args) {
        boolean debug = false;
        java.util.List<String> rest = new java.util.ArrayList<>();
        for (String a : args) {
            if (a.equals("--debug")) debug = true; else rest.add(a);
        }
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler(new Errors(debug));
        cli.setParameterExceptionHandler(Errors::parameterError);
        // qcow2 run SCRIPT --in-place: everything after SCRIPT belongs to the script
        cli.getSubcommands().get("run").setStopAtPositional(true).setUnmatchedOptionsArePositionalParams(true);
        int exit = cli.execute(rest.toArray(new String[0]));
        System.out.flush();
        return exit;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"qcow2 (qcow2-toolkit) " + (v == null ? "0.1.0-SNAPSHOT" : v)};
        }
    }
}
