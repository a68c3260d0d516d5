package dev.qcow2.view;

import java.util.HexFormat;

/**
 * A column of a {@link TableView}: its name (the JSON field and the DSL row property) and the
 * {@link Unit} its values are shown in. Rendering is the only place units matter.
 */
public record Column(String name, Unit unit) {
    public Column {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("a column needs a name");
        if (unit == null) unit = Unit.PLAIN;
    }

    public static Column hex(String name) { return new Column(name, Unit.HEX); }

    public static Column bytes(String name) { return new Column(name, Unit.BYTES); }

    public static Column plain(String name) { return new Column(name, Unit.PLAIN); }

    /** The text shown for {@code value} in terminals and HTML; null shows as empty. */
    public String format(Object value) { return Cells.inTable(unit, value); }

    /** The header text: the name, with "(bytes)" for byte counts. */
    public String title() { return unit == Unit.BYTES ? name + " (bytes)" : name; }

    /** Numbers line up on the right; names and flags on the left. */
    public boolean rightAligned() { return unit != Unit.PLAIN; }

    @Override public String toString() { return name; }

    /** Lower-case hex without separators, for byte arrays in cells. */
    static String hexBytes(byte[] b) { return HexFormat.of().formatHex(b); }
}
