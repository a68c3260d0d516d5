package dev.qcow2.create;

import java.math.BigDecimal;
import java.math.RoundingMode;

/** qemu_strtosz: a decimal number (fractions allowed) with an optional b/k/M/G/T/P/E suffix, powers of 1024. */
public final class SizeParser {
    private SizeParser() { }

    /** The bytes, or -1 when the text is not a size. */
    public static long parse(String text) {
        String t = text.trim();
        if (t.isEmpty()) return -1;
        int shift = switch (Character.toLowerCase(t.charAt(t.length() - 1))) {
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
        if (number.isEmpty() || !number.matches("[0-9]*\\.?[0-9]*")) return -1;
        BigDecimal v = new BigDecimal(number).multiply(BigDecimal.valueOf(2).pow(Math.max(shift, 0)));
        if (v.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) return -1;
        return v.setScale(0, RoundingMode.DOWN).longValueExact();
    }

    /** A size-typed {@code -o} option, with qemu's message when it is not one. */
    public static long parseOption(String name, String text) {
        long v = parse(text);
        if (v < 0) throw new IllegalArgumentException("Parameter '" + name + "' expects a non-negative number below 2^64");
        return v;
    }
}
