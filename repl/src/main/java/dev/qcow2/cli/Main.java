package dev.qcow2.cli;

import picocli.CommandLine;

/**
 * The {@code qcow2} command: subcommands mirror qemu-img where they overlap (same options,
 * same JSON, same exit codes). Errors are one line on stderr, {@code qcow2: FILE: what is wrong};
 * {@code --debug} (anywhere on the command line) adds the stack trace.
 */
public final class Main implements Runnable {
    /** The top command's description (its model is built by code: see {@link #commandLine(Streams, boolean, String...)}). */
    static final String DESCRIPTION = "Inspect, check, repair, create and change qcow2 disk images (a pure-Java qemu-img).";

    /**
     * The subcommands' names, in the order the usage lists them. picocli builds its model of a
     * command by reflection over its annotations (one dynamic proxy per annotation type, one
     * reflective accessor per option): ~0.15 s for all of them, several times the rest of a short
     * command's start-up. So a command line naming one of these builds only that one; the usage,
     * {@code help}, and anything picocli must report as unknown get them all. Each subcommand's
     * {@code @Command} says {@code addMethodSubcommands = false}: none has methods as
     * subcommands, and picocli would otherwise read every method's annotations to find out
     * (~13 ms of a 0.3 s {@code info}).
     */
    static final java.util.List<String> SUBCOMMANDS = java.util.List.of("info", "map", "check", "undo", "convert",
            "compare", "dump", "bench", "create", "io", "snapshot", "vmstate", "resize", "commit", "rebase", "measure", "amend",
            "bitmap", "rescue", "carve", "scan", "hash", "repl", "run", "jshell", "help");

    /** A new instance of the subcommand {@code name} (one of {@link #SUBCOMMANDS}; a switch, not lambdas: ~10 ms less start-up). */
    private static Object subcommand(String name) {
        return switch (name) {
            case "info" -> new InfoCommand();
            case "map" -> new MapCommand();
            case "check" -> new CheckCommand();
            case "undo" -> new UndoCommand();
            case "convert" -> new ConvertCommand();
            case "compare" -> new CompareCommand();
            case "dump" -> new DumpCommand();
            case "bench" -> new BenchCommand();
            case "create" -> new CreateCommand();
            case "io" -> new IoCommand();
            case "snapshot" -> new SnapshotCommand();
            case "vmstate" -> new VmstateCommand();
            case "resize" -> new ResizeCommand();
            case "commit" -> new CommitCommand();
            case "rebase" -> new RebaseCommand();
            case "measure" -> new MeasureCommand();
            case "amend" -> new AmendCommand();
            case "bitmap" -> new BitmapCommand();
            case "scan" -> new ScanCommand();
            case "hash" -> new HashCommand();
            case "rescue" -> new RescueCommand();
            case "carve" -> new CarveCommand();
            case "repl" -> new ReplCommand();
            case "run" -> new RunCommand();
            case "jshell" -> new JShellCommand();
            case "help" -> new CommandLine.HelpCommand();
            default -> throw new IllegalArgumentException("no subcommand " + name);
        };
    }

    static {
        // picocli would load (and initialise) groovy.lang.Closure, now on the class path for the
        // repl/run commands: that costs ~0.5 s of Groovy runtime start-up on every command.
        if (System.getProperty("picocli.disable.closures") == null) System.setProperty("picocli.disable.closures", "true");
    }

    private CommandLine.Model.CommandSpec spec;

    /** Where this command line reads and writes (see {@link Streams#of}). */
    final Streams streams;

    private Main(Streams streams) { this.streams = streams; }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Commands that may leave JVM shutdown hooks behind (JLine's terminal, Groovy, JShell): they exit normally. */
    private static final java.util.Set<String> INTERACTIVE = java.util.Set.of("repl", "run", "jshell");

    public static void main(String[] args) {
        int exit = run(args);
        if (args.length > 0 && INTERACTIVE.contains(args[0])) System.exit(exit);
        // Every stream is flushed and every file closed by now, and no other command registers a
        // shutdown hook: halt. Runtime.exit would first log the exit through System.Logger
        // (Shutdown.logRuntimeExit, JDK 21+), whose set-up costs ~30 ms of a 0.3 s command.
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(exit);
    }

    /** Runs the command line on the process's streams and returns the exit code (the launcher). */
    public static int run(String... args) {
        return run(Streams.system(), args);
    }

    /** Runs the command line on {@code streams} and returns the exit code (tests, the AOT training run). */
    public static int run(Streams streams, String... args) {
        boolean debug = false;
        java.util.List<String> rest = new java.util.ArrayList<>();
        for (String a : args) {
            if (a.equals("--debug")) debug = true; else rest.add(a);
        }
        String[] line = rest.toArray(new String[0]);
        String objectHelp = ObjectOption.helpRequested(line);
        if (objectHelp != null) {
            streams.out().print(objectHelp);
            streams.out().flush();
            return 0;
        }
        // the libc calls that open an image link on the second core while picocli builds its model
        if (line.length > 0 && SUBCOMMANDS.contains(line[0])) dev.qcow2.storage.FileStorage.prelinkNativeCalls();
        CommandLine cli = commandLine(streams, debug, line);
        int exit;
        try {
            exit = cli.execute(line);
        } finally {
            closeSecrets(cli);
        }
        cli.getOut().flush();
        cli.getErr().flush();
        streams.out().flush();
        streams.err().flush();
        return exit;
    }

    /** Zeroes the secrets the command line's {@code --object}s held (the command is done with them). */
    private static void closeSecrets(CommandLine cli) {
        for (CommandLine sub : cli.getSubcommands().values()) {
            for (CommandLine.Model.CommandSpec mixin : sub.getCommandSpec().mixins().values()) {
                if (mixin.userObject() instanceof ObjectOption o) o.close();
            }
        }
    }

    /** {@link #commandLine(Streams, boolean, String...)} on the process's streams. */
    static CommandLine commandLine(boolean debug, String... args) {
        return commandLine(Streams.system(), debug, args);
    }

    /**
     * The configured command line for {@code args} (without {@code --debug}): only the named
     * subcommand when {@code args} starts with one, else all of them (see {@link #SUBCOMMANDS}).
     * Its writers (inherited by the subcommands) print to {@code streams}.
     */
    static CommandLine commandLine(Streams streams, boolean debug, String... args) {
        // The top command's model by code, not by reflection over annotations: picocli's
        // reflection (annotation proxies, method scans, its standard-help mixin) cost ~35 ms of
        // every start; the options and texts are the ones mixinStandardHelpOptions would add.
        Main main = new Main(streams);
        CommandLine.Model.CommandSpec spec = CommandLine.Model.CommandSpec.wrapWithoutInspection(main);
        spec.name("qcow2").versionProvider(new Version());
        spec.usageMessage().description(DESCRIPTION);
        spec.addOption(CommandLine.Model.OptionSpec.builder("-h", "--help").usageHelp(true)
                .description("Show this help message and exit.").build());
        spec.addOption(CommandLine.Model.OptionSpec.builder("-V", "--version").versionHelp(true)
                .description("Print version information and exit.").build());
        main.spec = spec;
        CommandLine cli = new CommandLine(spec);
        String first = args.length == 0 ? "" : args[0];
        if (SUBCOMMANDS.contains(first) && !first.equals("help")) {
            cli.addSubcommand(first, subcommand(first));
        } else if (!(args.length == 1 && (first.equals("-V") || first.equals("--version")))) {
            for (String name : SUBCOMMANDS) cli.addSubcommand(name, subcommand(name));
        }
        cli.setOut(Streams.writer(streams.out()));
        cli.setErr(Streams.writer(streams.err()));
        cli.setHelpFactory(new OptionTexts.HelpFactory());
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
