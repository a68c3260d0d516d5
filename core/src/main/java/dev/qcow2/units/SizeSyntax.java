package dev.qcow2.units;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one parser of sizes written as text: a decimal number (digits first, as qemu_strtou64
 * needs) with an optional binary suffix
 * b/k/M/G/T/P/E (case-insensitive, powers of 1024), as QEMU's {@code qemu_strtosz}
 * (util/cutils.c {@code do_strtosz}) reads them, with QEMU's variants as options. Every front
 * end (create/amend {@code -o} options, the CLI's size arguments, the DSL) parses through one of
 * the presets below and turns a {@link Invalid} into its own message.
 *
 * @param hex                  {@code 0x…} accepted (hexadecimal, no fraction, no suffix)
 * @param fractionNeedsSuffix  a fraction only with a suffix other than b (QEMU 7.2: "when a
 *                             fraction is present, a scale is required")
 * @param rounding             how a fraction of a byte is rounded; {@code UNNECESSARY}: refused
 * @param unsigned64           values up to 2^64 - 1 accepted and returned as the same 64 bits
 *                             (qemu-img's int64_t then sees 8E and above as negative); otherwise
 *                             at most {@link Long#MAX_VALUE}
 * @param unitWords            a space before the suffix and an {@code iB}/{@code B} after it
 *                             ("4 KiB", "2 GB": the DSL's reading of sizes as they are printed)
 */
public record SizeSyntax(boolean hex, boolean fractionNeedsSuffix, RoundingMode rounding,
                         boolean unsigned64, boolean unitWords) {

    /** {@code -o} option values of create/amend/measure and the size arguments of {@code map -s/-l},
     *  {@code bench} and {@code measure --size}: fractions rounded down, at most 2^63 - 1. */
    public static final SizeSyntax QEMU_OPTION = new SizeSyntax(false, false, RoundingMode.DOWN, false, false);

    /** The {@code size} parameter of resize and commit's checks: hex allowed, fractions only with a
     *  suffix, rounded to the nearest byte, up to 2^64 - 1 (QEMU 7.2 {@code qemu_strtosz}). */
    public static final SizeSyntax QEMU_SIZE_PARAMETER = new SizeSyntax(true, true, RoundingMode.HALF_UP, true, false);

    /** The DSL: hex allowed, "4 KiB" accepted, a fraction must come to whole bytes. */
    public static final SizeSyntax DSL = new SizeSyntax(true, false, RoundingMode.UNNECESSARY, false, true);

    /** Why a text is not a size. */
    public enum Problem {
        /** not a number with a known suffix */
        SYNTAX,
        /** larger than the preset's limit */
        OUT_OF_RANGE,
        /** a fraction of a byte where the preset wants whole bytes */
        NOT_WHOLE
    }

    /** A text that is not a size, with the reason. */
    public static final class Invalid extends Exception {
        private final Problem problem;

        Invalid(Problem problem, String text) {
            super("not a size (" + problem.name().toLowerCase().replace('_', ' ') + "): '" + text + "'", null, false, false);
            this.problem = problem;
        }

        public Problem problem() { return problem; }
    }

    private static final Pattern HEX = Pattern.compile("0[xX]([0-9a-fA-F]+)");
    private static final Pattern PLAIN = Pattern.compile("([0-9]+)(\\.[0-9]*)?([bBkKmMgGtTpPeE]?)");
    private static final Pattern WORDS = Pattern.compile("([0-9]+)(\\.[0-9]+)?\\s*([bBkKmMgGtTpPeE]?)(?:i?[bB])?");
    private static final BigInteger TWO_TO_64 = BigInteger.ONE.shiftLeft(64);
    private static final BigInteger MAX_SIGNED = BigInteger.valueOf(Long.MAX_VALUE);

    /** The bytes {@code text} stands for (surrounding blanks ignored). */
    public long parse(String text) throws Invalid {
        String t = text.strip();
        Matcher h = HEX.matcher(t);
        BigInteger value;
        if (hex && h.matches()) {
            value = new BigInteger(h.group(1), 16);
        } else {
            Matcher m = (unitWords ? WORDS : PLAIN).matcher(t);
            if (!m.matches()) throw new Invalid(Problem.SYNTAX, text);
            String whole = m.group(1), fraction = m.group(2) == null ? "" : m.group(2);
            int shift = shift(m.group(3));
            boolean hasFraction = fraction.length() > 1 && !fraction.substring(1).matches("0*");
            if (hasFraction && fractionNeedsSuffix && shift == 0) throw new Invalid(Problem.SYNTAX, text);
            if (!hasFraction) {
                // the common case, without BigDecimal (its class initialisation alone costs ~23 ms
                // of start-up on JDK 25; see ExactDecimal)
                value = new BigInteger(whole).shiftLeft(shift);
            } else {
                BigDecimal number = new BigDecimal(whole + fraction);
                BigDecimal bytes = number.multiply(new BigDecimal(BigInteger.ONE.shiftLeft(shift)));
                try {
                    value = bytes.setScale(0, rounding).toBigIntegerExact();
                } catch (ArithmeticException notWhole) {
                    throw new Invalid(Problem.NOT_WHOLE, text);
                }
            }
        }
        if (value.compareTo(unsigned64 ? TWO_TO_64.subtract(BigInteger.ONE) : MAX_SIGNED) > 0) {
            throw new Invalid(Problem.OUT_OF_RANGE, text);
        }
        return value.longValue();
    }

    private static int shift(String suffix) {
        return switch (suffix.toLowerCase()) {
            case "", "b" -> 0;
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            case "p" -> 50;
            case "e" -> 60;
            default -> throw new IllegalArgumentException(suffix);   // excluded by the patterns
        };
    }
}
