package dev.qcow2.dsl

import dev.qcow2.view.Unit as ViewUnit
import groovy.transform.CompileStatic
import groovy.transform.EqualsAndHashCode

/**
 * A table column: its name (the row property) and the unit its values are shown in. Values keep
 * their type (numbers stay numbers, so JSON and Groovy code see them raw); only rendering uses
 * the unit. The Groovy face of the core's {@link dev.qcow2.view.Column}, which renders it.
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

    /** The core's column, which every front end renders. */
    dev.qcow2.view.Column toView() { new dev.qcow2.view.Column(name, ViewUnit.valueOf(unit.name())) }

    static Column from(dev.qcow2.view.Column c) { new Column(c.name(), Unit.valueOf(c.unit().name())) }

    /** The text shown for {@code value} in terminals and HTML; null shows as empty. */
    String format(Object value) { toView().format(value) }

    /** The header text: the name, with "(bytes)" for byte counts. */
    String title() { toView().title() }

    boolean rightAligned() { toView().rightAligned() }

    String toString() { name }
}
