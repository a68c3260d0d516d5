package dev.qcow2.cli;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;

/**
 * A size option value as QEMU's parse_option_size (qemu_strtosz) reads it: decimal, or hex with
 * 0x and no suffix; a fraction only with a suffix b/k/M/G/T/P/E (powers of 1024), rounded to
 * the nearest byte; at most 2^64 - 1. The result is returned as a signed 64-bit value, as
 * qemu-img resize stores it in an int64_t (so 8E and above turn negative).
 */
final class SizeArg {
    private static final BigInteger LIMIT = BigInteger.ONE.shiftLeft(64);

    private SizeArg() { }

    static long parse(String text) {
        String t = text.stripLeading();
        BigInteger value;
        if (t.matches("0[xX][0-9a-fA-F]+")) {
            value = new BigInteger(t.substring(2), 16);
        } else {
            var m = java.util.regex.Pattern.compile("(\\d+)(\\.\\d*)?([bBkKmMgGtTpPeE]?)").matcher(t);
            if (!m.matches()) throw invalid();
            int shift = switch (m.group(3).toLowerCase()) {
                case "", "b" -> 0;
                case "k" -> 10;
                case "m" -> 20;
                case "g" -> 30;
                case "t" -> 40;
                case "p" -> 50;
                default -> 60;
            };
            String fraction = m.group(2);
            boolean hasFraction = fraction != null && fraction.length() > 1 && !fraction.substring(1).matches("0*");
            if (hasFraction && shift == 0) throw invalid();
            BigDecimal v = new BigDecimal(m.group(1) + (fraction == null || fraction.equals(".") ? "" : fraction));
            value = v.multiply(new BigDecimal(BigInteger.ONE.shiftLeft(shift))).setScale(0, RoundingMode.HALF_UP).toBigIntegerExact();
        }
        if (value.compareTo(LIMIT) >= 0) {
            throw new Errors.CliException("Value '" + text + "' is out of range for parameter 'size'");
        }
        return value.longValue();
    }

    private static Errors.CliException invalid() {
        return new Errors.CliException("Parameter 'size' expects a non-negative number below 2^64 "
                + "(optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta- and exabytes, respectively)");
    }
}
