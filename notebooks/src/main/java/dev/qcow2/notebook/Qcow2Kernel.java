package dev.qcow2.notebook;

import dev.qcow2.ErrorLine;
import dev.qcow2.dsl.DslException;
import dev.qcow2.dsl.DslShell;
import dev.qcow2.dsl.FrontEnd;
import dev.qcow2.notebook.charts.Charts;
import groovy.lang.Closure;
import io.github.spencerpark.jupyter.kernel.BaseKernel;
import io.github.spencerpark.jupyter.kernel.LanguageInfo;
import io.github.spencerpark.jupyter.kernel.ReplacementOptions;
import io.github.spencerpark.jupyter.kernel.display.DisplayData;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The "qcow2 toolkit (Java)" kernel: Java cells run in JShell ({@link JavaCells}); a cell whose
 * first line is {@code %%dsl} runs its body in one {@link DslShell} shared by every such cell
 * (the open image and assigned variables persist). Values show richly ({@link Displays});
 * {@code display(x)} works in both kinds of cell; errors are one line.
 * JShell starts on a background thread as soon as the kernel is made, so it warms up while the
 * front end connects.
 */
public final class Qcow2Kernel extends BaseKernel {
    static final String DSL_MAGIC = "%%dsl";
    private static volatile Qcow2Kernel current;

    private final CompletableFuture<DslShell> dsl;
    private final CompletableFuture<JavaCells> java;
    private volatile Consumer<DisplayData> displaySink;   // null: the notebook

    public Qcow2Kernel() {
        current = this;
        // Both shells start on their own threads so the front end's first request is answered at
        // once; the DSL compiles a first script only after JShell is up (first results come first).
        java = CompletableFuture.supplyAsync(() -> new JavaCells(List.of(
                "void display(Object value) { dev.qcow2.notebook.Qcow2Kernel.current().display(value); }",
                "Object dsl(String code) { return dev.qcow2.notebook.Qcow2Kernel.current().dsl(code); }",
                "void share(String name, Object value) { dev.qcow2.notebook.Qcow2Kernel.current().share(name, value); }")),
                Qcow2Kernel::startThread);
        dsl = CompletableFuture.supplyAsync(this::newDslShell, Qcow2Kernel::startThread);
        java.thenAcceptBothAsync(dsl, (j, d) -> { synchronized (d) { d.evaluate("1"); } }, Qcow2Kernel::startThread);
    }

    private static void startThread(Runnable r) {
        Thread t = new Thread(r, "qcow2-kernel-start");
        t.setDaemon(true);
        t.start();
    }

    private DslShell newDslShell() {
        DslShell shell = new DslShell();
        shell.setFrontEnd(FrontEnd.NOTEBOOK);
        shell.getBinding().setVariable("display", new Closure<Object>(this) {
            @SuppressWarnings("unused")
            public Object doCall(Object value) {
                display(value);
                return null;
            }
        });
        shell.getBinding().setVariable("charts", Charts.class);
        return shell;
    }

    /** The running kernel (for the helpers Java cells call). */
    public static Qcow2Kernel current() { return current; }

    /** Where display(...) output goes: the notebook, or a test's list. */
    public void setDisplaySink(Consumer<DisplayData> sink) { this.displaySink = sink; }

    /** Shows a value now, before the cell's result. */
    public void display(Object value) {
        DisplayData d = Displays.of(value);
        if (d != null) display(d);
    }

    @Override
    public void display(DisplayData data) {
        Consumer<DisplayData> sink = displaySink;
        if (sink == null) super.display(data);
        else sink.accept(data);
    }

    /** Runs DSL text in the notebook's shared DSL session (what %%dsl cells use). */
    public Object dsl(String code) {
        DslShell shell = dslShell();
        synchronized (shell) {
            return shell.evaluate(code);
        }
    }

    public DslShell dslShell() {
        try {
            return dsl.join();
        } catch (RuntimeException e) {
            throw new CellException("the DSL shell did not start: " + ErrorLine.of(e.getCause() == null ? e : e.getCause()));
        }
    }

    /** Makes a Java value a variable of the %%dsl cells (a Path is shared as its string, which DSL commands take). */
    public void share(String name, Object value) {
        dslShell().getBinding().setVariable(name, value instanceof java.nio.file.Path p ? p.toString() : value);
    }

    @Override
    public DisplayData eval(String code) {
        return Displays.of(evaluate(code));
    }

    /** The value of the cell (before rendering); failures are {@link CellException}s of one line. */
    public Object evaluate(String code) {
        String body = dslBody(code);
        if (body != null) {
            try {
                return dsl(body);
            } catch (DslException e) {
                throw new CellException(e.getMessage());
            }
        }
        return javaCells().eval(code).orElse(null);
    }

    /** The cell without its {@code %%dsl} line, or null for a Java cell. */
    static String dslBody(String code) {
        String s = code.stripLeading();
        if (!s.startsWith(DSL_MAGIC)) return null;
        int nl = s.indexOf('\n');
        String args = (nl < 0 ? s : s.substring(0, nl)).substring(DSL_MAGIC.length());
        if (!args.isBlank()) throw new CellException("%%dsl takes no arguments, found '" + args.strip() + "'");
        return nl < 0 ? "" : s.substring(nl + 1);
    }

    @Override
    public ReplacementOptions complete(String code, int at) {
        String body = dslBody(code);
        if (body != null) {
            int offset = code.length() - body.length();
            if (at < offset) return null;
            var c = dslShell().complete(body, at - offset);
            return c.getCandidates().isEmpty() ? null : new ReplacementOptions(c.getValues(), c.getStart() + offset, c.getEnd() + offset);
        }
        var c = javaCells().complete(code, at);
        return c.candidates().isEmpty() ? null : new ReplacementOptions(c.candidates(), c.start(), c.end());
    }

    @Override
    public String isComplete(String code) {
        String body = dslBody(code);
        if (body != null) {
            return switch (dslShell().completeness(body)) {
                case COMPLETE -> IS_COMPLETE_YES;
                case INCOMPLETE -> "";
                default -> IS_COMPLETE_BAD;
            };
        }
        return switch (javaCells().completeness(code)) {
            case "complete" -> IS_COMPLETE_YES;
            case "incomplete" -> "";
            default -> IS_COMPLETE_BAD;
        };
    }

    /** One line, without a Java stack trace. */
    @Override
    public List<String> formatError(Exception e) {
        String line = ErrorLine.of(e);
        return List.of(errorStyler.primary(line));
    }

    JavaCells javaCells() {
        try {
            return java.join();
        } catch (RuntimeException e) {
            throw new CellException("the Java shell did not start: " + ErrorLine.of(e.getCause() == null ? e : e.getCause()));
        }
    }

    @Override
    public LanguageInfo getLanguageInfo() {
        return new LanguageInfo.Builder("java").version(Runtime.version().toString()).mimetype("text/x-java-source")
                .fileExtension(".jshell").pygments("java").codemirror("java").build();
    }

    @Override
    public String getBanner() {
        return "qcow2 toolkit (Java) — JShell " + Runtime.version() + " with the toolkit imported; %%dsl cells run the DSL";
    }

    @Override
    public void onShutdown(boolean isRestarting) {
        if (dsl.isDone() && !dsl.isCompletedExceptionally()) dsl.join().close();
        if (java.isDone() && !java.isCompletedExceptionally()) java.join().close();
    }
}
