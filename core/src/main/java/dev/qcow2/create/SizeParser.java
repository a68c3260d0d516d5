package dev.qcow2.create;

import dev.qcow2.units.SizeSyntax;

/** Size-typed {@code -o} option values, parsed by {@link SizeSyntax#QEMU_OPTION}. */
public final class SizeParser {
    private SizeParser() { }

    /** The bytes, or -1 when the text is not a size. */
    public static long parse(String text) {
        try {
            return SizeSyntax.QEMU_OPTION.parse(text);
        } catch (SizeSyntax.Invalid e) {
            return -1;
        }
    }

    /** A size-typed {@code -o} option, with qemu's message when it is not one. */
    public static long parseOption(String name, String text) {
        long v = parse(text);
        if (v < 0) throw new IllegalArgumentException("Parameter '" + name + "' expects a non-negative number below 2^64");
        return v;
    }
}
