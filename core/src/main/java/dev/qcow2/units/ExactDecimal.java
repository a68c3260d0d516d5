package dev.qcow2.units;

import java.math.BigInteger;

/**
 * Decimal renderings of a double as glibc's printf makes them: the exact binary value rounded,
 * ties to even. {@code java.math.BigDecimal} would do the same, but its class initialisation
 * alone costs ~23 ms on JDK 25 (it builds tables of powers of ten with BigInteger arithmetic, in
 * the interpreter at start-up): a tenth of a whole {@code qcow2 info}. BigInteger is cheap to
 * start, and every double is an integer times a power of two, so the rounding is one division.
 */
public final class ExactDecimal {
    private ExactDecimal() { }

    /** printf's {@code %.Nf}: {@code decimals} digits after the point (x finite). */
    public static String fixed(double x, int decimals) {
        if (decimals < 0) throw new IllegalArgumentException("decimals < 0: " + decimals);
        if (!Double.isFinite(x)) return nonFinite(x);
        String digits = scaled(Math.abs(x), decimals).toString();
        if (digits.length() <= decimals) digits = "0".repeat(decimals + 1 - digits.length()) + digits;
        String s = decimals == 0 ? digits
                : digits.substring(0, digits.length() - decimals) + "." + digits.substring(digits.length() - decimals);
        return (Math.copySign(1.0, x) < 0 ? "-" : "") + s;
    }

    /**
     * printf's {@code %.Pg} (no '#' flag): {@code significant} digits, plain notation when the
     * decimal exponent X of the rounded value satisfies -4 <= X < P, else {@code d.ddde+XX};
     * trailing zeros (and a trailing point) removed (x finite, P >= 1).
     */
    public static String general(double x, int significant) {
        if (significant < 1) throw new IllegalArgumentException("significant < 1: " + significant);
        if (!Double.isFinite(x)) return nonFinite(x);
        String sign = Math.copySign(1.0, x) < 0 ? "-" : "";
        double a = Math.abs(x);
        if (a == 0) return sign + "0";
        // the decimal exponent of a, estimated and then corrected on the exact rounded digits
        int exponent = (int) Math.floor(Math.log10(a));
        BigInteger low = BigInteger.TEN.pow(significant - 1), high = BigInteger.TEN.pow(significant);
        BigInteger n = scaled(a, significant - 1 - exponent);
        while (n.compareTo(high) >= 0) n = scaled(a, significant - 1 - ++exponent);
        while (n.compareTo(low) < 0) n = scaled(a, significant - 1 - --exponent);
        if (exponent >= -4 && exponent < significant) {
            return sign + stripZeros(fixed(a, significant - 1 - exponent));
        }
        String d = n.toString();
        String mantissa = stripZeros(d.charAt(0) + (d.length() > 1 ? "." + d.substring(1) : ""));
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (Math.abs(exponent) < 10 ? "0" : "") + Math.abs(exponent);
    }

    /** glibc's spelling of infinities and NaN. */
    private static String nonFinite(double x) {
        return Double.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
    }

    private static String stripZeros(String s) {
        if (s.indexOf('.') < 0) return s;
        int end = s.length();
        while (s.charAt(end - 1) == '0') end--;
        if (s.charAt(end - 1) == '.') end--;
        return s.substring(0, end);
    }

    /** a * 10^power rounded to an integer, ties to even, computed exactly (a finite, >= 0). */
    private static BigInteger scaled(double a, int power) {
        if (a == 0) return BigInteger.ZERO;
        long bits = Double.doubleToRawLongBits(a);
        int biased = (int) (bits >>> 52) & 0x7ff;
        long mantissa = bits & ((1L << 52) - 1);
        int binaryExponent;
        if (biased == 0) {
            binaryExponent = -1074;                 // subnormal: mantissa * 2^-1074
        } else {
            mantissa |= 1L << 52;
            binaryExponent = biased - 1075;         // mantissa * 2^(biased - 1023 - 52)
        }
        BigInteger numerator = BigInteger.valueOf(mantissa), denominator = BigInteger.ONE;
        if (binaryExponent >= 0) numerator = numerator.shiftLeft(binaryExponent);
        else denominator = denominator.shiftLeft(-binaryExponent);
        if (power >= 0) numerator = numerator.multiply(BigInteger.TEN.pow(power));
        else denominator = denominator.multiply(BigInteger.TEN.pow(-power));
        BigInteger[] qr = numerator.divideAndRemainder(denominator);
        int half = qr[1].shiftLeft(1).compareTo(denominator);
        return half > 0 || (half == 0 && qr[0].testBit(0)) ? qr[0].add(BigInteger.ONE) : qr[0];
    }
}
