package dev.qcow2.cli;

import dev.qcow2.units.SizeSyntax;

/**
 * The {@code size} parameter as QEMU's parse_option_size reads it ({@link
 * SizeSyntax#QEMU_SIZE_PARAMETER}), with qemu-img's messages. The result is a signed 64-bit
 * value, as qemu-img resize stores it in an int64_t (so 8E and above turn negative).
 */
final class SizeArg {
    private SizeArg() { }

    static long parse(String text) {
        try {
            return SizeSyntax.QEMU_SIZE_PARAMETER.parse(text);
        } catch (SizeSyntax.Invalid e) {
            if (e.problem() == SizeSyntax.Problem.OUT_OF_RANGE) {
                throw new Errors.CliException("Value '" + text + "' is out of range for parameter 'size'");
            }
            throw new Errors.CliException("Parameter 'size' expects a non-negative number below 2^64 "
                    + "(optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta- and exabytes, respectively)");
        }
    }
}
