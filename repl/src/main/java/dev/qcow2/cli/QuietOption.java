package dev.qcow2.cli;

import picocli.CommandLine.Option;

/**
 * {@code -q, --quiet}: no progress and no success message; errors are still printed. Help text
 * per command: {@link OptionTexts} (key {@code quiet}). (check's {@code -q} has no long form,
 * as in qemu-img, and stays its own option.)
 */
final class QuietOption {
    @Option(names = {"-q", "--quiet"}, descriptionKey = "quiet", description = "Print nothing.")
    boolean on;
}
