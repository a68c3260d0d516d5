package dev.qcow2.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code qcow2} command: subcommands mirror qemu-img where they overlap (same options,
 * same JSON, same exit codes). Errors are one line on stderr, {@code qcow2: FILE: what is wrong};
 * {@code --debug} (anywhere on the command line) adds the stack trace.
 */
@Command(name = "qcow2", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Inspect, check, repair, create and change qcow2 disk images (a pure-Java qemu-img).")
public final class Main implements Runnable {
    /**
     * The subcommands, in the order the usage lists them. picocli builds its model of a command
     * by reflection over its annotations (one dynamic proxy per annotation type, one reflective
     * accessor per option): ~0.15 s for all of them, several times the rest of a short command's
     * start-up. So a command line naming one of these builds only that one; the usage, {@code help},
     * and anything picocli must suggest a name for get them all.
     */
    private static final java.util.Map<String, java.util.function.Supplier<Object>> SUBCOMMANDS = subcommands();

    private static java.util.Map<String, java.util.function.Supplier<Object>> subcommands() {
        java.util.Map<String, java.util.function.Supplier<Object>> m = new java.util.LinkedHashMap<>();
        m.put("info", InfoCommand::new);
        m.put("map", MapCommand::new);
        m.put("check", CheckCommand::new);
        m.put("undo", UndoCommand::new);
        m.put("convert", ConvertCommand::new);
        m.put("compare", CompareCommand::new);
        m.put("dump", DumpCommand::new);
        m.put("bench", BenchCommand::new);
        m.put("create", CreateCommand::new);
        m.put("io", IoCommand::new);
        m.put("snapshot", SnapshotCommand::new);
        m.put("resize", ResizeCommand::new);
        m.put("commit", CommitCommand::new);
        m.put("rebase", RebaseCommand::new);
        m.put("measure", MeasureCommand::new);
        m.put("amend", AmendCommand::new);
        m.put("repl", ReplCommand::new);
        m.put("run", RunCommand::new);
        m.put("jshell", JShellCommand::new);
        m.put("help", CommandLine.HelpCommand::new);
        return m;
    }

    static {
        // picocli would load (and initialise) groovy.lang.Closure, now on the class path for the
        // repl/run commands: that costs ~0.5 s of Groovy runtime start-up on every command.
        if (System.getProperty("picocli.disable.closures") == null) System.setProperty("picocli.disable.closures", "true");
    }

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
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
        String[] line = rest.toArray(new String[0]);
        int exit = commandLine(debug, line).execute(line);
        System.out.flush();
        return exit;
    }

    /**
     * The configured command line for {@code args} (without {@code --debug}): only the named
     * subcommand when {@code args} starts with one, else all of them (see {@link #SUBCOMMANDS}).
     */
    static CommandLine commandLine(boolean debug, String... args) {
        CommandLine cli = new CommandLine(new Main());
        String first = args.length == 0 ? "" : args[0];
        if (SUBCOMMANDS.containsKey(first) && !first.equals("help")) {
            cli.addSubcommand(first, SUBCOMMANDS.get(first).get());
        } else if (!(args.length == 1 && (first.equals("-V") || first.equals("--version")))) {
            SUBCOMMANDS.forEach((name, command) -> cli.addSubcommand(name, command.get()));
        }
        cli.setExecutionExceptionHandler(new Errors(debug));
        cli.setParameterExceptionHandler(Errors::parameterError);
        // qcow2 run SCRIPT --in-place: everything after SCRIPT belongs to the script
        CommandLine run = cli.getSubcommands().get("run");
        if (run != null) run.setStopAtPositional(true).setUnmatchedOptionsArePositionalParams(true);
        return cli;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"qcow2 (qcow2-toolkit) " + (v == null ? "0.1.0-SNAPSHOT" : v)};
        }
    }
}
