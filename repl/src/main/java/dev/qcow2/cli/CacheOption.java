package dev.qcow2.cli;

import picocli.CommandLine.Option;

import java.util.List;

/**
 * {@code -t, --cache CACHE}: qemu-img's cache mode of the image. Writes here are always flushed
 * as the command ends, so only bench gives the modes a meaning (writethrough/directsync flush
 * each write, unsafe never). Help text per command: {@link OptionTexts} (key {@code cache}).
 */
final class CacheOption {
    /** bdrv_parse_cache_mode's names. */
    static final List<String> MODES = List.of("none", "writeback", "writethrough", "directsync", "unsafe");

    @Option(names = {"-t", "--cache"}, paramLabel = "CACHE", descriptionKey = "cache",
            description = "Cache mode (accepted; writes are flushed at the end).")
    String mode;

    /** The mode given, else {@code fallback}. */
    String orElse(String fallback) { return mode == null ? fallback : mode; }

    /** qemu-img's bdrv_parse_cache_mode check; {@code what} is "cache" or "source cache". */
    static void check(String mode, String what) {
        if (mode != null && !MODES.contains(mode)) throw new Errors.CliException("Invalid " + what + " option: " + mode);
    }
}
