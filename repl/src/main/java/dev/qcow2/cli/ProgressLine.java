package dev.qcow2.cli;

import java.io.PrintWriter;

/**
 * qemu-img's progress line, {@code "    (xx.xx/100%)\r"}, redrawn when the percentage moved by 1
 * or more and ended by a newline ({@link #done}); prints nothing when off.
 */
final class ProgressLine {
    private final boolean on;
    private final PrintWriter out;
    private double last = -1;

    ProgressLine(boolean on, PrintWriter out) {
        this.on = on;
        this.out = out;
    }

    void update(long done, long total) {
        if (!on) return;
        double pct = total == 0 ? 100 : done * 100.0 / total;
        if (pct - last < 1 && pct < 100) return;
        last = pct;
        out.printf("    (%.2f/100%%)\r", pct);
        out.flush();
    }

    void done() {
        if (!on) return;
        update(1, 1);
        out.print("\n");
        out.flush();
    }
}
