package dev.qcow2.dsl

import groovy.transform.CompileStatic

/**
 * Sizes written as numbers with a unit: {@code 64.KiB}, {@code 1.5.MiB}, {@code 2.GiB} — the
 * same values as the quoted {@code '64k'}, {@code '1.5M'}, {@code '2G'}, so every command that
 * takes a size or an offset takes either. A Groovy category: {@link DslShell} runs every
 * evaluation inside {@code use(SizeUnits)}, so the words work in the REPL, scripts and notebook
 * cells (and in closures they run), without changing Number for the rest of the JVM (an
 * extension module would, for every Groovy class on the class path). The text "number unit" goes through {@link Sizes#parse} and so through the core's one
 * size parser ({@code units.SizeSyntax.DSL}): a fraction must come to whole bytes, a negative
 * size or one past 2^63 - 1 bytes is a one-line error.
 */
@CompileStatic
final class SizeUnits {
    private SizeUnits() { }

    static long getB(Number self) { of(self, 'B') }

    static long getKiB(Number self) { of(self, 'KiB') }

    static long getMiB(Number self) { of(self, 'MiB') }

    static long getGiB(Number self) { of(self, 'GiB') }

    static long getTiB(Number self) { of(self, 'TiB') }

    static long getPiB(Number self) { of(self, 'PiB') }

    static long getEiB(Number self) { of(self, 'EiB') }

    private static long of(Number n, String unit) {
        if (n == null) throw new DslException("size: null $unit")
        if (n instanceof Double || n instanceof Float) {
            double d = n.doubleValue()
            if (Double.isNaN(d) || Double.isInfinite(d)) throw new DslException("size $n $unit is not a number of bytes")
        }
        BigDecimal exact = n instanceof BigDecimal ? (BigDecimal) n
                : (n instanceof Double || n instanceof Float) ? BigDecimal.valueOf(n.doubleValue()) : new BigDecimal(n.toString())
        String text = exact.stripTrailingZeros().toPlainString()
        if (exact.signum() < 0) throw new DslException("size $text $unit must not be negative")
        Sizes.parse("$text $unit".toString(), 'size')
    }
}
