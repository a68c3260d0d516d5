package dev.qcow2.repair;

import java.util.Locale;

/** qemu-img check's {@code -r}: {@code leaks} = BDRV_FIX_LEAKS; {@code all} = FIX_LEAKS | FIX_ERRORS. */
public enum RepairMode {
    LEAKS, ALL;

    public boolean fixErrors() { return this == ALL; }

    /** Parses qemu-img's spelling; null if it is neither {@code leaks} nor {@code all}. */
    public static RepairMode parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "leaks" -> LEAKS;
            case "all" -> ALL;
            default -> null;
        };
    }
}
