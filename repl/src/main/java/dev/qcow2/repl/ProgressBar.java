package dev.qcow2.repl;

import dev.qcow2.dsl.ProgressListener;
import org.jline.terminal.Terminal;
import org.jline.utils.InfoCmp.Capability;

import java.io.PrintWriter;
import java.time.Duration;

/**
 * Draws a long command's progress ({@code check [#######-------]  47%}) on the terminal's
 * current line, redrawn in place at most every 100 ms, and erased when the command completes
 * or the REPL shows its result ({@link #clear}). Commands that finish within {@code delay} show
 * nothing. Only installed on a real terminal: a dumb terminal or piped output gets no bar.
 */
final class ProgressBar implements ProgressListener {
    private static final long INTERVAL = Duration.ofMillis(100).toNanos();
    private final Terminal terminal;
    private final long delay;
    private long startedAt;
    private long drawnAt;
    private boolean shown;

    ProgressBar(Terminal terminal, Duration delay) {
        this.terminal = terminal;
        this.delay = delay.toNanos();
    }

    @Override
    public synchronized void progress(String phase, long done, long total) {
        long now = System.nanoTime();
        if (done == 0) startedAt = now;              // a command starts counting at 0
        if (done >= total) {
            clear();
            return;
        }
        if (now - startedAt < delay || (shown && now - drawnAt < INTERVAL)) return;
        draw(phase, done, total);
        drawnAt = now;
    }

    /** Erases the bar if it is on the screen. */
    synchronized void clear() {
        if (!shown) return;
        PrintWriter out = terminal.writer();
        out.print('\r');
        terminal.puts(Capability.clr_eol);
        out.flush();
        shown = false;
    }

    private void draw(String phase, long done, long total) {
        int percent = (int) (done * 100 / total);
        int width = Math.max(10, Math.min(40, terminal.getWidth() - phase.length() - 8));
        int filled = (int) ((long) width * done / total);
        String bar = phase + " [" + "#".repeat(filled) + "-".repeat(width - filled) + "] " + String.format("%3d%%", percent);
        PrintWriter out = terminal.writer();
        out.print('\r');
        out.print(bar);
        terminal.puts(Capability.clr_eol);
        out.flush();
        shown = true;
    }
}
