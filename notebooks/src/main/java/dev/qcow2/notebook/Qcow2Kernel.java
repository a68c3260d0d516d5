package dev.qcow2.notebook;

import dev.qcow2.ErrorLine;
import dev.qcow2.dsl.DslException;
import dev.qcow2.dsl.DslShell;
import dev.qcow2.dsl.FrontEnd;
import dev.qcow2.notebook.charts.Charts;
import groovy.lang.Closure;
import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.BaseKernelBuilder;
import org.dflib.jjava.jupyter.kernel.JupyterIO;
import org.dflib.jjava.jupyter.kernel.LanguageInfo;
import org.dflib.jjava.jupyter.kernel.ReplacementOptions;
import org.dflib.jjava.jupyter.kernel.comm.CommManager;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.kernel.display.Renderer;
import org.dflib.jjava.jupyter.kernel.magic.MagicsRegistry;
import org.dflib.jjava.jupyter.kernel.util.StringStyler;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The "qcow2 toolkit (Java)" kernel: Java cells run in JShell ({@link JavaCells}); a cell whose
 * first line is {@code %%dsl} runs its body in one {@link DslShell} shared by every such cell
 * (the open image and assigned variables persist). Values show richly ({@link Displays});
 * {@code display(x)} works in both kinds of cell; errors are one line.
 * JShell starts on a background thread as soon as the kernel is made, so it warms up while the
 * front end connects.
 * <p>
 * Interrupts (Jupyter's interrupt_request on the control channel, or SIGINT, see
 * {@link KernelMain}) stop the running cell through the {@link CellRunner}: the cell's user
 * code runs on its own thread, so the kernel's threads are never interrupted; the cell ends with
 * "interrupted" and the next one runs in the same session.
 * Built on jjava-jupyter (org.dflib.jjava), the maintained line of IJava's base kernel.
 */
public final class Qcow2Kernel extends BaseKernel {
    static final String DSL_MAGIC = "%%dsl";
    private static volatile Qcow2Kernel current;

    private final CellRunner runner = new CellRunner();
    private final CompletableFuture<DslShell> dsl = new CompletableFuture<>();
    private final AtomicBoolean dslStarted = new AtomicBoolean();
    private final ReentrantLock dslLock = new ReentrantLock();   // one DSL evaluation at a time
    private volatile Thread dslHolder;                            // the thread in dsl(), if any
    private final CompletableFuture<JavaCells> java;
    private volatile Consumer<DisplayData> displaySink;   // null: the notebook

    public Qcow2Kernel() {
        this(new Builder());
    }

    private Qcow2Kernel(Builder b) {
        super(b.kernelName(), b.kernelVersion(), languageInfo(), List.of(), null, b.io(), b.comms(), b.renderer(), null, b.magics(), false, b.errorStyler());
        current = this;
        // Both shells start on their own threads so the front end's first request is answered at
        // once. The DSL shell starts when JShell is up, or at once for a %%dsl cell that comes
        // first (dslShell()), so that on a busy machine the two do not compete for the first
        // result; it compiles a first script only after both are up.
        java = CompletableFuture.supplyAsync(() -> new JavaCells(runner), Qcow2Kernel::startThread);
        java.whenComplete((j, e) -> startDsl());
        java.thenAcceptBothAsync(dsl, (j, d) -> {
            dslLock.lock();
            try {
                d.evaluate("1");
            } finally {
                dslLock.unlock();
            }
        }, Qcow2Kernel::startThread);
    }

    private void startDsl() {
        if (!dslStarted.compareAndSet(false, true)) return;
        startThread(() -> {
            try {
                dsl.complete(newDslShell());
            } catch (Throwable t) {
                dsl.completeExceptionally(t);
            }
        });
    }

    /** The base kernel's parts (I/O streams, comms, renderer, error styler) with jjava's defaults. */
    private static final class Builder extends BaseKernelBuilder<Builder, Qcow2Kernel> {
        Builder() {
            name("qcow2");
            version(Qcow2Kernel.class.getPackage().getImplementationVersion() == null ? "dev" : Qcow2Kernel.class.getPackage().getImplementationVersion());
        }

        @Override public Qcow2Kernel build() { return new Qcow2Kernel(this); }

        String kernelName() { return buildName(); }
        String kernelVersion() { return buildVersion(); }
        JupyterIO io() { return buildJupyterIO(buildJupyterIOEncoding()); }
        CommManager comms() { return buildCommManager(); }
        Renderer renderer() { return buildRenderer(); }
        MagicsRegistry magics() { return buildMagicsRegistry(); }
        StringStyler errorStyler() { return buildErrorStyler(); }
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
        if (!dslLock.tryLock()) {
            // cells run one at a time: another cell's thread in the session is one that ignored an
            // interrupt (Groovy's sleep does) and was left running; the start-up warm-up is waited for
            if (dslHolder instanceof CellThread t && t != Thread.currentThread() && t.isAlive()) {
                throw new CellException("the DSL session is still busy with an interrupted cell that ignored the interrupt; wait for it to end or restart the kernel");
            }
            try {
                dslLock.lockInterruptibly();
            } catch (InterruptedException e) {
                throw new CellStopped();
            }
        }
        Thread previous = dslHolder;
        dslHolder = Thread.currentThread();
        try {
            return shell.evaluate(code);
        } finally {
            dslHolder = previous;
            dslLock.unlock();
        }
    }

    public DslShell dslShell() {
        startDsl();
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

    @Override
    public Object evalRaw(String code) {
        return evaluate(code);
    }

    /**
     * The value of the cell (before rendering); failures are {@link CellException}s of one line,
     * an interrupted cell's is "interrupted".
     */
    public Object evaluate(String code) {
        runner.beginCell();
        String body = dslBody(code);
        if (body == null) {
            try {
                return javaCells().eval(code).orElse(null);
            } catch (CellException e) {
                if (runner.stopped()) throw interrupted();     // the cell may have been in dsl(...)
                throw redacted(e.getMessage(), code);
            }
        }
        try {
            return runner.run(() -> dsl(body));
        } catch (CellStopped e) {
            throw interrupted();
        } catch (CellException e) {
            throw runner.stopped() ? interrupted() : e;
        } catch (DslException e) {
            throw runner.stopped() ? interrupted() : new CellException(e.getMessage());
        } catch (Exception e) {
            throw runner.stopped() ? interrupted() : redacted(ErrorLine.of(e), body);
        }
    }

    /**
     * The error of a cell, with any passphrase the cell's code wrote ({@code secret: 'pw'},
     * {@code Secret.ofString("pw")}) masked: error lines are stored in the notebook's outputs.
     */
    private static CellException redacted(String line, String code) {
        return new CellException(dev.qcow2.dsl.SecretRedaction.inMessage(line, code));
    }

    /**
     * The interrupt (Jupyter's interrupt_request; SIGINT): stops the running cell. Called on the
     * control channel's thread while the shell channel's thread waits for the cell.
     */
    @Override
    public void interrupt() {
        runner.stop();
    }

    /**
     * The one line of an interrupted cell, after reopening the DSL session's image: an
     * interrupted file read closes the image's channel (as the REPL does after Ctrl-C).
     */
    private CellException interrupted() {
        String note = runner.stopMessage();
        if (!dsl.isDone() || dsl.isCompletedExceptionally()) return new CellException(note);
        if (dslLock.tryLock()) {           // not while an abandoned cell still holds the session
            try {
                var s = dsl.join().getSession();
                if (s.isOpen()) s.reopen();      // same options and secrets
            } catch (RuntimeException e) {
                note += "; the image could not be reopened: " + ErrorLine.of(e);
            } finally {
                dslLock.unlock();
            }
        }
        return new CellException(note);
    }

    @Override
    public DisplayData inspect(String code, int at, boolean extraDetail) {
        return null;
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
    public List<String> formatError(Throwable e) {
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

    private static LanguageInfo languageInfo() {
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
