package dev.qcow2.dsl

import groovy.transform.CompileStatic

/**
 * One long command's progress: counts work done, reports it to the session's
 * {@link ProgressListener} (about 200 times per command at most, so a listener costs nothing on
 * big images), and is the command's cancellation point: a thread interrupted (the REPL's
 * Ctrl-C) stops at the next {@link #cancelPoint} with "cancelled" instead of running to the
 * end. Loops call it before each read: a read on an interrupted thread would close the
 * image's file channel, a check first leaves the session usable.
 * Invariant: reported values never decrease, never exceed {@code total}, and {@link #finish}
 * reports {@code total} once.
 */
@CompileStatic
final class Meter {
    private static final int STEPS = 200
    private final ProgressListener listener
    final String phase
    final long total
    private long done
    private long reported = -1

    private Meter(ProgressListener listener, String phase, long total) {
        this.listener = listener
        this.phase = phase
        this.total = Math.max(0L, total)
    }

    /** Starts counting (reports 0 of {@code total}). */
    static Meter start(Session s, String phase, long total) {
        def m = new Meter(s.progress, phase, total)
        m.report(true)
        m
    }

    /** {@code n} more units done. */
    void advance(long n) {
        done = Math.min(total, done + Math.max(0L, n))
        report(false)
    }

    /** Work done so far is {@code n} units (a total reported by the work itself; never goes back). */
    void advanceTo(long n) {
        advance(n - done)
    }

    /** The command completed: reports {@code total}. */
    void finish() {
        done = total
        report(true)
    }

    /** Throws "cancelled" when the running thread was interrupted (clearing the flag). */
    static void cancelPoint() {
        if (Thread.interrupted()) throw new DslException('cancelled')
    }

    private void report(boolean force) {
        if (listener == null || done == reported) return
        long step = Math.max(1L, total.intdiv(STEPS) as long)
        if (force || done - reported >= step || done == total) {
            reported = done
            listener.progress(phase, done, total)
        }
    }
}
