package dev.qcow2.view;

import java.util.Collection;
import java.util.Locale;
import java.util.stream.Collectors;

/** How one value is written in text and HTML renderings (the JSON rendering keeps values raw). */
public final class Cells {
    private Cells() { }

    /** {@code 0x1f000}; a 64-bit word with bit 63 set (a raw L1/L2 entry with COPIED) as its unsigned hex. */
    public static String hex(long v) { return "0x" + Long.toHexString(v); }

    /** {@code 64 KiB}, {@code 1.5 MiB}; the exact count below 1 KiB. */
    public static String human(long v) {
        if (v < 1024) return v + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double d = v;
        int i = -1;
        while (d >= 1024 && i < units.length - 1) {
            d /= 1024;
            i++;
        }
        String n = d == Math.rint(d) ? String.valueOf((long) d)
                : String.format(Locale.ROOT, "%.3g", d).replaceAll("\\.?0+$", "");
        return n + " " + units[i];
    }

    /** A table cell: offsets in hex, byte counts and everything else as they are, null empty. */
    public static String inTable(Unit unit, Object value) {
        return switch (value) {
            case null -> "";
            case Number n when unit == Unit.HEX -> hex(n.longValue());
            case byte[] b -> Column.hexBytes(b);
            case Collection<?> c -> c.stream().map(String::valueOf).collect(Collectors.joining(", "));
            default -> value.toString();
        };
    }

    /** A record field: as in a table, and a byte count of 1 KiB or more also as a human size. */
    public static String inRecord(Unit unit, Object value) {
        if (value instanceof Number n && unit == Unit.BYTES && n.longValue() >= 1024) {
            return n.longValue() + " (" + human(n.longValue()) + ")";
        }
        return inTable(unit, value);
    }
}
