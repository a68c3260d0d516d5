package dev.qcow2.vmstate;

import java.util.Locale;

/** What {@code qcow2 vmstate} writes. */
public enum VmStateFormat {
    /** the stored migration stream as it is (Volatility 3's QEMU layer and analyze-migration.py read it) */
    STREAM,
    /** a sparse guest-physical image of one RAM block: holes where pages are zero or absent */
    RAW,
    /** LiME: one 32-byte header (magic 0x4C694D45, version 1, start, inclusive end) per range, then its bytes */
    LIME,
    /** an ELF64 core with one PT_LOAD per range (p_paddr = guest-physical address) */
    ELF;

    public static VmStateFormat parse(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown format '" + name + "' (expected stream, raw, lime or elf)");
        }
    }

    public String cliName() { return name().toLowerCase(Locale.ROOT); }
}
