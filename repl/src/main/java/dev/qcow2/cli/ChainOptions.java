package dev.qcow2.cli;

import dev.qcow2.chain.Progress;

import java.io.PrintStream;
import java.util.List;

/** What commit and rebase share: qemu-img's cache-mode check and its progress line. */
final class ChainOptions {
    static final List<String> CACHE_MODES = List.of("none", "writeback", "writethrough", "directsync", "unsafe");

    private ChainOptions() { }

    /** qemu-img's bdrv_parse_cache_mode check; {@code what} is "cache" or "source cache". */
    static void checkCache(String mode, String what) {
        if (mode != null && !CACHE_MODES.contains(mode)) throw new Errors.CliException("Invalid " + what + " option: " + mode);
    }

    /** A {@link Progress} that prints qemu-img's {@code "    (xx.xx/100%)\r"} lines, ended by {@link ConvertCommand.Progress#done()}. */
    static ConvertCommand.Progress progress(boolean on, PrintStream out) {
        ConvertCommand.Progress p = new ConvertCommand.Progress(on, out);
        p.update(0, 1);
        return p;
    }

    static Progress listener(ConvertCommand.Progress p) { return p::update; }
}
