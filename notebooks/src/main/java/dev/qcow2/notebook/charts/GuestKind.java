package dev.qcow2.notebook.charts;

import java.awt.Color;

/** Where the data of one guest cluster comes from, as the guest allocation map colors it. */
public enum GuestKind {
    DATA("data in this layer", new Color(0x3b82f6)),
    COMPRESSED("compressed in this layer", new Color(0x22c55e)),
    ZERO("zero (flag)", new Color(0xfbbf24)),
    BACKING("from a backing layer", new Color(0xa855f7)),
    UNALLOCATED("unallocated (reads zeros)", new Color(0xe5e7eb));

    private final String label;
    private final Color color;

    GuestKind(String label, Color color) {
        this.label = label;
        this.color = color;
    }

    public String label() { return label; }

    public Color color() { return color; }
}
