package dev.qcow2.create;

/** qemu's PreallocMode as the qcow2 driver accepts it ({@code preallocation=off|metadata|falloc|full}). */
public enum Preallocation {
    /** Only the L1 table; clusters are allocated on first write. */
    OFF,
    /** Every L2 table and every data cluster allocated (L2 entries point at them), data not written. */
    METADATA,
    /** As METADATA, and the data area reserved in the file. */
    FALLOC,
    /** As METADATA, and the data area written with zeros. */
    FULL;

    public String qemuName() { return name().toLowerCase(java.util.Locale.ROOT); }

    /** qapi_enum_parse: the exact lower-case name, or empty. */
    public static java.util.Optional<Preallocation> parse(String text) {
        for (Preallocation p : values()) if (p.qemuName().equals(text)) return java.util.Optional.of(p);
        return java.util.Optional.empty();
    }
}
