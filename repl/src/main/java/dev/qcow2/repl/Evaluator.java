package dev.qcow2.repl;

import dev.qcow2.dsl.DslShell;

import java.nio.file.Path;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Runs DSL input on a worker thread so that Ctrl-C ({@link #cancel}) can stop it while the
 * session lives on. A cancelled evaluation is interrupted: DSL loops check the interrupt flag
 * (the shell compiles with {@code @ThreadInterrupt}) and file reads stop with
 * ClosedByInterruptException; the image is then reopened, because an interrupted read closes
 * its file channel.
 */
public final class Evaluator implements AutoCloseable {
    /** What an evaluation gave: a value, or the one line to show for a failure or a cancel. */
    public record Outcome(Object value, String error, boolean cancelled) {
        public boolean ok() { return error == null; }
    }

    private final DslShell shell;
    private ExecutorService worker = newWorker();
    private volatile Future<?> running;
    private volatile boolean cancelRequested;

    public Evaluator(DslShell shell) { this.shell = shell; }

    public DslShell shell() { return shell; }

    public Outcome evaluate(String code) { return submit(() -> shell.evaluate(code)); }

    /** {@code :load FILE}: the file's text evaluated in this session ({@code args} is empty). */
    public Outcome load(Path file) { return submit(() -> shell.run(file, java.util.List.of())); }

    /** Stops the running evaluation, if any (the SIGINT handler calls this). */
    public void cancel() {
        Future<?> f = running;
        if (f != null) {
            cancelRequested = true;
            f.cancel(true);
        }
    }

    public boolean busy() { return running != null; }

    private Outcome submit(java.util.concurrent.Callable<Object> task) {
        cancelRequested = false;
        Future<Object> f = worker.submit(task);
        running = f;
        try {
            return new Outcome(f.get(), null, false);
        } catch (CancellationException e) {
            return cancelled();
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            return cancelled();
        } catch (ExecutionException e) {
            if (cancelRequested) return cancelled();
            return new Outcome(null, DslShell.errorLine(e.getCause()), false);
        } finally {
            running = null;
        }
    }

    private Outcome cancelled() {
        String note = "cancelled";
        worker.shutdownNow();
        try {
            if (!worker.awaitTermination(2, TimeUnit.SECONDS)) note = "cancelled (the command ignores interrupts and runs on in the background)";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        worker = newWorker();
        String reopened = reopen();
        return new Outcome(null, reopened == null ? note : note + "; " + reopened, true);
    }

    /** An interrupted file read closed the image's channel: open the same file again. */
    private String reopen() {
        var s = shell.getSession();
        if (!s.isOpen()) return null;
        Path p = s.getPath();
        try {
            s.reopen();              // same options and secrets
            return null;
        } catch (RuntimeException e) {
            return "could not reopen " + p + ": " + DslShell.errorLine(e);
        }
    }

    private static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "qcow2-repl-eval");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void close() {
        worker.shutdownNow();
        shell.close();
    }
}
