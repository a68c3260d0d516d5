package dev.qcow2.dsl

import groovy.transform.CompileStatic
import groovy.transform.EqualsAndHashCode

/**
 * A table column: its name (the row property) and the unit its values are shown in. Values keep
 * their type (numbers stay numbers, so JSON and Groovy code see them raw); only rendering uses
 * the unit.
 */
@CompileStatic
@EqualsAndHashCode
final class Column {
    enum Unit {
        /** an offset: shown as 0x… */
        HEX,
        /** a byte count: shown as a number, header says "bytes" */
        BYTES,
        /** anything else: toString() */
        PLAIN
    }

    final String name
    final Unit unit

    Column(String name, Unit unit = Unit.PLAIN) {
        this.name = name
        this.unit = unit
    }

    static Column hex(String name) { new Column(name, Unit.HEX) }

    static Column bytes(String name) { new Column(name, Unit.BYTES) }

    static Column plain(String name) { new Column(name, Unit.PLAIN) }

    /** The text shown for {@code value} in terminals and HTML; null shows as empty. */
    String format(Object value) {
        if (value == null) return ''
        if (unit == Unit.HEX && value instanceof Number) return Sizes.hex(((Number) value).longValue())
        if (value instanceof byte[]) return ((byte[]) value).encodeHex().toString()
        value.toString()
    }

    /** The header text: the name, with "(bytes)" for byte counts. */
    String title() { unit == Unit.BYTES ? "$name (bytes)" : name }

    boolean rightAligned() { unit != Unit.PLAIN }

    String toString() { name }
}
