package dev.qcow2.cli;

import picocli.CommandLine.Option;

import java.io.PrintWriter;

/**
 * {@code -p, --progress}: qemu-img's {@code "    (xx.xx/100%)\r"} progress line, which
 * {@code -q} turns off. Help text per command: {@link OptionTexts} (key {@code progress}).
 */
final class ProgressOption {
    @Option(names = {"-p", "--progress"}, descriptionKey = "progress", description = "Show progress.")
    boolean on;

    /** The progress line on {@code out} (silent when not asked for or {@code quiet}), already showing 0%. */
    ProgressLine start(QuietOption quiet, PrintWriter out) {
        ProgressLine p = meter(quiet, out);
        p.update(0, 1);
        return p;
    }

    /** The progress line on {@code out} (silent when not asked for or {@code quiet}), nothing printed yet. */
    ProgressLine meter(QuietOption quiet, PrintWriter out) {
        return new ProgressLine(on && !quiet.on, out);
    }
}
