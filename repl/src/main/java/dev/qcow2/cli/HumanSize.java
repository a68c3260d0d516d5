package dev.qcow2.cli;

import dev.qcow2.units.ExactDecimal;
import dev.qcow2.units.SizeSyntax;


/** Sizes as qemu prints them (size_to_str: "10 MiB"); parsing is {@link SizeSyntax}'s. */
final class HumanSize {
    private HumanSize() { }

    private static final String[] SUFFIXES = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};

    /** util/cutils.c size_to_str: three significant digits ({@code %0.3g}) and a binary suffix. */
    static String format(long val) {
        double scaled = (double) val / (1000.0 / 1024.0);
        int exp = scaled == 0 ? 0 : Math.getExponent(scaled) + 1;   // frexp's exponent
        int i = Math.max(0, (exp - 1) / 10);
        long div = 1L << (i * 10);
        return g3((double) val / div) + " " + SUFFIXES[i] + "B";
    }

    /** C's {@code %0.3g}. */
    static String g3(double x) {
        return ExactDecimal.general(x, 3);
    }

    /** A size argument ({@link SizeSyntax#QEMU_OPTION}), with qemu-img's message when it is not one. */
    static long parse(String option, String text) {
        try {
            return SizeSyntax.QEMU_OPTION.parse(text);
        } catch (SizeSyntax.Invalid e) {
            throw new Errors.CliException("Invalid " + option + " specified. Must be a non-negative number.");
        }
    }
}
