package dev.qcow2.cli;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/** Sizes as qemu prints and parses them: size_to_str ("10 MiB") and qemu_strtosz (k/M/G/T/P/E = powers of 1024). */
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
        if (x == 0) return "0";
        BigDecimal bd = new BigDecimal(x).round(new MathContext(3, RoundingMode.HALF_EVEN));
        int exponent = bd.precision() - bd.scale() - 1;
        if (exponent < -4 || exponent >= 3) {
            BigDecimal mantissa = bd.movePointLeft(exponent).stripTrailingZeros();
            return mantissa.toPlainString() + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
        }
        return bd.stripTrailingZeros().toPlainString();
    }

    /** qemu_strtosz: a number with an optional suffix b/k/M/G/T/P/E (case-insensitive, powers of 1024). */
    static long parse(String option, String text) {
        String t = text.trim();
        if (t.isEmpty()) throw new Errors.CliException("Invalid " + option + " specified. Must be a non-negative number.");
        char last = t.charAt(t.length() - 1);
        int shift = switch (Character.toLowerCase(last)) {
            case 'b' -> 0;
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            case 'p' -> 50;
            case 'e' -> 60;
            default -> -1;
        };
        String number = shift < 0 ? t : t.substring(0, t.length() - 1);
        if (shift < 0) shift = 0;
        try {
            BigDecimal v = new BigDecimal(number).multiply(BigDecimal.valueOf(2).pow(shift));
            if (v.signum() < 0 || v.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) throw new NumberFormatException();
            return v.setScale(0, RoundingMode.DOWN).longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            throw new Errors.CliException("Invalid " + option + " specified. Must be a non-negative number.");
        }
    }
}
