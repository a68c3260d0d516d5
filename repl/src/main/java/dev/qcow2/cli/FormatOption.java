package dev.qcow2.cli;

import picocli.CommandLine.Option;

/**
 * {@code -f, --format FMT}: the format of the image operand; absent means probed as qemu-img
 * does ({@link ImageOpener#format}). Each command checks what it accepts. Shared by the commands
 * on one image (info, map, bench, check, amend, commit, io, rebase, resize, snapshot); its help
 * text may be specialised per command in {@link OptionTexts} (key {@code format}).
 */
final class FormatOption {
    @Option(names = {"-f", "--format"}, paramLabel = "FMT", descriptionKey = "format",
            description = "Image format: qcow2 or raw (default: probed).")
    String value;
}
