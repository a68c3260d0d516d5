package dev.qcow2.notebook;

/**
 * The thread that runs one piece of a cell's user code (a Java snippet or a DSL cell), so that
 * an interrupt stops it without touching the kernel's own threads: an interrupted socket or
 * javac file read would close its channel for good.
 * <p>
 * Stopping is cooperative, as Thread.stop no longer exists: {@link #requestStop} sets a flag
 * that {@link #checkStop} turns into {@link CellStopped} (the Java snippets' classes call it at
 * every method start and before every backward branch, see {@link StopCheckWeaver}), and
 * interrupts the thread, which ends blocking calls (sleep, wait, locks, interruptible I/O) and
 * DSL loops (the DSL compiles with {@code @ThreadInterrupt}).
 */
public final class CellThread extends Thread {
    private volatile boolean stopRequested;

    CellThread(Runnable work) {
        super(work, "qcow2-cell");
        setDaemon(true);
    }

    void requestStop() {
        stopRequested = true;
        interrupt();
    }

    /**
     * Called by instrumented snippet code: throws {@link CellStopped} when the running cell was
     * interrupted. Free on other threads (threads user code starts itself are not stopped).
     */
    public static void checkStop() {
        if (Thread.currentThread() instanceof CellThread t && t.stopRequested) throw new CellStopped();
    }
}
