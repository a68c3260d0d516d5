package dev.qcow2.notebook.charts;

import java.awt.Color;

/** What one host cluster of the image file holds, as the host allocation map colors it. */
public enum ClusterKind {
    HEADER("header", new Color(0x1f2a44)),
    L1_TABLE("L1 table", new Color(0x7b3fa0)),
    L2_TABLE("L2 table", new Color(0xc27ce0)),
    REFCOUNT_TABLE("refcount table", new Color(0x1b7f79)),
    REFCOUNT_BLOCK("refcount block", new Color(0x4fc1b8)),
    SNAPSHOT_TABLE("snapshot table", new Color(0xe0a800)),
    OTHER_METADATA("other metadata (bitmaps, LUKS)", new Color(0x8d6e63)),
    DATA("data", new Color(0x3b82f6)),
    COMPRESSED("compressed data", new Color(0x22c55e)),
    LEAKED("leaked", new Color(0xef4444)),
    FREE("free", new Color(0xe5e7eb)),
    PAST_EOF("past end of file", new Color(0x111111));

    private final String label;
    private final Color color;

    ClusterKind(String label, Color color) {
        this.label = label;
        this.color = color;
    }

    public String label() { return label; }

    public Color color() { return color; }
}
