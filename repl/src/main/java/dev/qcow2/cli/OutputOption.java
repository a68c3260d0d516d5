package dev.qcow2.cli;

import picocli.CommandLine.Option;

/**
 * {@code --output=human|json}, with qemu-img's message for any other value
 * ({@link OutputFormat.Converter}). Help text per command: {@link OptionTexts} (key {@code output}).
 */
final class OutputOption {
    @Option(names = "--output", paramLabel = "human|json", converter = OutputFormat.Converter.class,
            descriptionKey = "output", description = "Output format (default: human).")
    OutputFormat format = OutputFormat.human;

    boolean json() { return format == OutputFormat.json; }
}
