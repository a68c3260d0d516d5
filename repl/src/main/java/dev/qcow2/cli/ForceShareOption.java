package dev.qcow2.cli;

import picocli.CommandLine.Option;

/**
 * {@code -U, --force-share}: qemu-img's "open without taking the image lock". This tool takes no
 * locks, so read-only commands accept it as is; snapshot refuses it for changes, as qemu-img
 * does. Help text per command: {@link OptionTexts} (key {@code force-share}).
 */
final class ForceShareOption {
    @Option(names = {"-U", "--force-share"}, descriptionKey = "force-share",
            description = "Accepted for qemu-img compatibility.")
    boolean on;
}
