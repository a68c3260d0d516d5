package dev.qcow2.dsl

import dev.qcow2.units.SizeSyntax
import groovy.transform.CompileStatic

import java.math.RoundingMode

/**
 * Sizes and offsets as the DSL accepts them: any integral number (also a whole decimal such as
 * {@code 1.5 * 1024}, and {@code 64.KiB}, {@code 1.5.MiB}: {@link SizeUnits}), or a string parsed by core's
 * {@link SizeSyntax#DSL} ("64k", "1.5M", "2G", "4 KiB"; k/M/G/T/P/E = powers of 1024; "0x10000").
 */
@CompileStatic
final class Sizes {
    private Sizes() { }

    static long parse(Object value, String what = 'size') {
        if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            long v = ((Number) value).longValue()
            if (v < 0) throw new DslException("$what must not be negative: $v")
            return v
        }
        if (value instanceof BigInteger) return parse(value.toString(), what)
        // 1.5 * 1024 and other whole results of decimal arithmetic
        if (value instanceof BigDecimal) {
            BigDecimal d = (BigDecimal) value
            if (d.signum() < 0) throw new DslException("$what must not be negative: ${d.stripTrailingZeros().toPlainString()}")
            return parse(d.stripTrailingZeros().toPlainString(), what)
        }
        if (value instanceof CharSequence) return parseText(value.toString().trim(), what)
        throw new DslException("$what must be a number or a string like '64k', not ${value == null ? 'null' : value.getClass().simpleName}")
    }

    private static long parseText(String t, String what) {
        try {
            return SizeSyntax.DSL.parse(t)
        } catch (SizeSyntax.Invalid e) {
            switch (e.problem()) {
                case SizeSyntax.Problem.NOT_WHOLE: throw new DslException("$what '$t' is not a whole number of bytes")
                case SizeSyntax.Problem.OUT_OF_RANGE: throw new DslException("$what '$t' is too large")
                default: throw new DslException("bad $what '$t': use a number, 0x… or a size like 512, 64k, 1M, 2G")
            }
        }
    }

    /** {@code 0x1f000} */
    static String hex(long v) { v < 0 ? '-' : '0x' + Long.toHexString(v) }

    /** {@code 64 KiB}, {@code 1.5 MiB}; exact byte count below 1 KiB. */
    static String human(long v) {
        if (v < 1024) return "$v B"
        String[] units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as String[]
        double d = v
        int i = -1
        while (d >= 1024 && i < units.length - 1) { d /= 1024; i++ }
        String n = d == Math.rint(d) ? String.valueOf((long) d) : String.format(Locale.ROOT, '%.3g', d).replaceAll(/\.?0+$/, '')
        "$n ${units[i]}"
    }
}
