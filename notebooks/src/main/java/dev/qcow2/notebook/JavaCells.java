package dev.qcow2.notebook;

import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.UnresolvedReferenceException;
import jdk.jshell.execution.DirectExecutionControl;
import jdk.jshell.spi.ExecutionControl;
import jdk.jshell.spi.ExecutionControlProvider;
import jdk.jshell.spi.ExecutionEnv;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Java cells: one {@link JShell} whose snippets run in this JVM (a local execution control), so
 * the value of a cell's last expression is the object itself, not its string, and can be
 * displayed richly. The toolkit is on the class path and its packages are imported. A cell may
 * hold several snippets; they run in order and the first failure stops the cell with a
 * {@link CellException} of one line (the compiler's message or the exception's), never a trace.
 * Snippets run on a {@link CellThread} of the kernel's {@link CellRunner}, their classes
 * instrumented with stop checks ({@link StopCheckWeaver}), so an interrupt stops even a
 * {@code while (true) {}} and the cell ends "interrupted" with every earlier declaration kept.
 */
public final class JavaCells implements AutoCloseable {
    /** Imported in every session: the toolkit's public packages, the DSL, the charts, java.nio.file, and display/dsl/share. */
    static final List<String> IMPORTS = List.of("java.nio.file.*", "java.util.*", "dev.qcow2.*", "dev.qcow2.image.*",
            "dev.qcow2.check.*", "dev.qcow2.write.*", "dev.qcow2.snapshot.*", "dev.qcow2.create.*", "dev.qcow2.repair.*",
            "dev.qcow2.format.*", "dev.qcow2.units.*", "dev.qcow2.dsl.*", "dev.qcow2.notebook.*", "dev.qcow2.notebook.charts.*",
            "static dev.qcow2.notebook.CellFunctions.*");

    private final AtomicReference<Object> lastValue = new AtomicReference<>();
    private final JShell shell;
    private final CellRunner runner;
    private final StopCheckWeaver weaver = new StopCheckWeaver();

    JavaCells(CellRunner runner) {
        this.runner = runner;
        shell = JShell.builder().executionEngine(new Provider(), Map.of()).build();
        // one call: each one makes JShell re-index the class path for completion in the background
        shell.addToClasspath(System.getProperty("java.class.path"));
        // one snippet each, without JShell's source analysis: its first use starts indexing the
        // class path in the background, which is only needed for completion (see complete)
        for (String p : IMPORTS) {
            String source = "import " + p + ";";
            run(source, source);
        }
    }

    /** Runs every snippet of {@code code}; the value of the last one when it is an expression. */
    public Optional<Object> eval(String code) {
        SourceCodeAnalysis sca = shell.sourceCodeAnalysis();
        String rest = code;
        Optional<Object> result = Optional.empty();
        while (!rest.isBlank()) {
            SourceCodeAnalysis.CompletionInfo info = sca.analyzeCompletion(rest);
            if (info.completeness() == SourceCodeAnalysis.Completeness.EMPTY) break;
            String source = info.completeness().isComplete() ? info.source() : rest;
            rest = info.completeness().isComplete() ? info.remaining() : "";
            result = run(source, code);
        }
        return result;
    }

    private Optional<Object> run(String source, String cell) {
        if (runner.stopped()) throw new CellException(runner.stopMessage());
        lastValue.set(null);
        List<SnippetEvent> events = shell.eval(source);
        // a stopped snippet is no failure to JShell (no exception in its event): the runner knows
        if (runner.stopped()) throw new CellException(runner.stopMessage());
        Optional<Object> result = Optional.empty();
        for (SnippetEvent e : events) {
            if (e.causeSnippet() != null) continue;   // dependents updated by this snippet
            if (e.exception() != null) throw new CellException(describe(e.exception()));
            if (e.status() == Snippet.Status.REJECTED) throw new CellException(diagnostics(e.snippet(), source, cell));
            if (shows(e.snippet())) result = Optional.ofNullable(lastValue.get());
        }
        return result;
    }

    /** Expressions show their value; declarations (variables, methods, classes, imports) do not. */
    private static boolean shows(Snippet s) {
        return switch (s.subKind()) {
            case TEMP_VAR_EXPRESSION_SUBKIND, VAR_VALUE_SUBKIND, OTHER_EXPRESSION_SUBKIND, ASSIGNMENT_SUBKIND -> true;
            default -> false;
        };
    }

    private String diagnostics(Snippet s, String source, String cell) {
        Optional<Diag> first = shell.diagnostics(s).filter(Diag::isError).findFirst();
        if (first.isEmpty()) return "the snippet was rejected: " + oneLine(s.source());
        Diag d = first.get();
        int at = cell.indexOf(source);
        long pos = Math.max(0, d.getStartPosition());
        int line = 1;
        if (at >= 0) for (int i = 0; i < at + pos && i < cell.length(); i++) if (cell.charAt(i) == '\n') line++;
        return "line " + line + ": " + oneLine(d.getMessage(Locale.ROOT));
    }

    /** "cannot find symbol\n  symbol: variable x\n  location: ..." → "cannot find symbol (symbol: variable x)". */
    static String oneLine(String message) {
        List<String> lines = new ArrayList<>();
        for (String l : message.split("\n")) if (!l.isBlank() && !l.strip().startsWith("location:")) lines.add(l.strip().replaceAll("\\s+", " "));
        if (lines.isEmpty()) return "error";
        return lines.size() == 1 ? lines.get(0) : lines.get(0) + " (" + String.join(", ", lines.subList(1, lines.size())) + ")";
    }

    static String describe(Exception e) {
        if (e instanceof UnresolvedReferenceException u) {
            return "unresolved reference: " + oneLine(u.getSnippet().source()) + " uses a declaration that does not compile";
        }
        if (e instanceof EvalException ee) return dev.qcow2.ErrorLine.of(ee.getExceptionClassName(), ee.getMessage());
        return dev.qcow2.ErrorLine.of(e.getClass().getName(), e.getMessage());
    }

    /**
     * Completion for {@code code} at {@code cursor}: candidate texts and the start of the text they
     * replace. Names of packages and of classes not imported come from JShell's index of the class
     * path, which it builds in the background after start-up; the first completion waits for it
     * (at most {@link #INDEX_WAIT_MILLIS}), so {@code dev.qcow2.im} offers {@code image.} at once.
     */
    public Completions complete(String code, int cursor) {
        SourceCodeAnalysis sca = shell.sourceCodeAnalysis();
        awaitIndex(sca);
        int start = 0;
        String rest = code;
        // find the snippet the cursor is in
        while (true) {
            SourceCodeAnalysis.CompletionInfo info = sca.analyzeCompletion(rest);
            if (!info.completeness().isComplete() || info.remaining().isBlank()) break;
            int len = rest.length() - info.remaining().length();
            if (start + len >= cursor) break;
            start += len;
            rest = info.remaining();
        }
        String snippet = code.substring(start, Math.max(start, cursor));
        int[] anchor = new int[1];
        List<String> names = new ArrayList<>();
        for (SourceCodeAnalysis.Suggestion s : sca.completionSuggestions(snippet, snippet.length(), anchor)) {
            if (!names.contains(s.continuation())) names.add(s.continuation());
        }
        return new Completions(names, start + anchor[0], cursor);
    }

    public record Completions(List<String> candidates, int start, int end) { }

    static final long INDEX_WAIT_MILLIS = 20_000;
    private volatile boolean indexed;

    /** Waits until JShell's class path index knows the toolkit's packages (it is swapped in whole). */
    private void awaitIndex(SourceCodeAnalysis sca) {
        long deadline = System.nanoTime() + INDEX_WAIT_MILLIS * 1_000_000;
        while (!indexed) {
            String probe = "dev.qcow2.";
            indexed = sca.completionSuggestions(probe, probe.length(), new int[1]).stream().anyMatch(s -> s.continuation().startsWith("image"));
            if (indexed) return;
            if (System.nanoTime() > deadline) {
                indexed = true;         // give up waiting (once): completion works from what is indexed
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Whether the cell is whole ("complete"), needs more lines ("incomplete") or cannot parse ("invalid"). */
    public String completeness(String code) {
        var c = shell.sourceCodeAnalysis().analyzeCompletion(code).completeness();
        return switch (c) {
            case COMPLETE, COMPLETE_WITH_SEMI, EMPTY, CONSIDERED_INCOMPLETE -> "complete";
            case DEFINITELY_INCOMPLETE -> "incomplete";
            default -> "invalid";
        };
    }

    @Override public void close() { shell.close(); }

    /**
     * Runs snippets in this JVM and keeps the last result object (JShell itself only sees its
     * string). DirectExecutionControl, not LocalExecutionControl: since JDK 24 the latter
     * instruments every snippet class with calls to a {@code REPL.$Cancel$} class that only its
     * own {@code invoke} defines, so overriding {@code invoke} (to keep the value) left those
     * calls dangling (NoClassDefFoundError on Java 25). The same kind of stop checks come from
     * {@link StopCheckWeaver} here, calling the kernel's own {@link CellThread#checkStop}.
     */
    private final class Provider implements ExecutionControlProvider {
        @Override public String name() { return "qcow2-local"; }

        @Override public ExecutionControl generate(ExecutionEnv env, Map<String, String> parameters) {
            return new DirectExecutionControl() {
                @Override public void load(ClassBytecodes[] cbcs) throws ClassInstallException, NotImplementedException, EngineTerminationException {
                    ClassBytecodes[] woven = new ClassBytecodes[cbcs.length];
                    for (int i = 0; i < cbcs.length; i++) {
                        woven[i] = new ClassBytecodes(cbcs[i].name(), weaver.instrument(cbcs[i].name(), cbcs[i].bytecodes()));
                    }
                    super.load(woven);
                }

                @Override protected String invoke(Method doit) throws Exception {
                    Object value;
                    try {
                        value = runner.run(() -> doit.invoke(null));
                    } catch (CellStopped e) {
                        throw new StoppedException();
                    } catch (InvocationTargetException e) {
                        // also what an interrupted sleep or read threw: the cell was stopped
                        if (e.getCause() instanceof CellStopped || runner.stopped()) throw new StoppedException();
                        throw e;
                    }
                    lastValue.set(value);
                    return valueString(value);
                }

                @Override public void stop() { runner.stop(); }
            };
        }
    }
}
