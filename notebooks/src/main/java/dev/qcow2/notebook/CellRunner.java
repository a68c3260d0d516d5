package dev.qcow2.notebook;

import java.util.concurrent.Callable;

/**
 * Runs a cell's user code on a {@link CellThread} and lets the kernel's interrupt stop it.
 * The kernel calls {@link #beginCell} when a cell starts; {@link #stop} (the Jupyter
 * interrupt_request, or SIGINT) stops the user code running now and refuses any that the same
 * cell would start next (a Java cell of several snippets), so the cell ends "interrupted" and the
 * session (JShell's variables, the DSL session and its open image) stays as it was.
 * <p>
 * Code that ignores the stop request (a loop inside a library method that swallows interrupts)
 * is given {@link #GRACE_MILLIS}, then left running in the background: the cell still ends, the
 * kernel stays usable, and the message says so.
 */
final class CellRunner {
    static final long GRACE_MILLIS = 3000;

    private volatile CellThread running;
    private volatile boolean stopRequested;
    private volatile boolean abandoned;

    /** A new cell: earlier interrupts do not apply to it. */
    void beginCell() {
        stopRequested = false;
        abandoned = false;
    }

    /** Interrupts the current cell (from another thread). */
    void stop() {
        stopRequested = true;
        CellThread t = running;
        if (t != null) t.requestStop();
    }

    /** Whether the current cell was interrupted. */
    boolean stopped() { return stopRequested; }

    /** The one line an interrupted cell shows. */
    String stopMessage() {
        return abandoned ? "interrupted; the cell ignored the interrupt and runs on in the background" : "interrupted";
    }

    /**
     * Runs {@code work} on a new {@link CellThread} and waits for it; its value, or what it threw
     * (checked exceptions unchanged). Throws {@link CellStopped} at once when the cell was already
     * interrupted, and when the code does not end within the grace time after an interrupt.
     */
    <T> T run(Callable<T> work) throws Exception {
        if (stopRequested) throw new CellStopped();
        Object[] value = new Object[1];
        Throwable[] failure = new Throwable[1];
        CellThread t = new CellThread(() -> {
            try {
                value[0] = work.call();
            } catch (Throwable e) {
                failure[0] = e;
            }
        });
        t.setContextClassLoader(Thread.currentThread().getContextClassLoader());
        running = t;
        if (stopRequested) t.requestStop();     // an interrupt between the check above and `running = t`
        t.start();
        try {
            awaitEnd(t);
        } finally {
            running = null;
        }
        // join() orders the worker's writes before these reads
        if (failure[0] instanceof Exception e) throw e;
        if (failure[0] instanceof Error e) throw e;
        if (failure[0] != null) throw new IllegalStateException(failure[0]);
        @SuppressWarnings("unchecked") T v = (T) value[0];
        return v;
    }

    private void awaitEnd(CellThread t) {
        boolean interruptedHere = false;
        try {
            while (t.isAlive()) {
                try {
                    if (stopRequested) {
                        t.join(GRACE_MILLIS);
                        if (t.isAlive()) {
                            abandoned = true;
                            throw new CellStopped();
                        }
                    } else {
                        t.join(100);
                    }
                } catch (InterruptedException e) {
                    // the waiting thread is the kernel's: treat it as an interrupt of the cell
                    interruptedHere = true;
                    stop();
                }
            }
        } finally {
            if (interruptedHere) Thread.currentThread().interrupt();
        }
    }
}
