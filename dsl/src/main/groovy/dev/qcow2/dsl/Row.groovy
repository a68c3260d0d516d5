package dev.qcow2.dsl

import groovy.transform.CompileStatic

/**
 * One table row: an ordered map from column name to value, so {@code row.guest_offset},
 * {@code row['kind']} and {@code row.kind == 'compressed'} all work in Groovy. Asking for a
 * column the table does not have by name ({@code row.x}, {@code row['x']}) is a one-line error
 * listing the columns (a typo must not read as null and silently filter everything out).
 * {@link #get} keeps the Map contract (null when absent): {@code equals}, {@code contains} and
 * hashing call it with the other map's keys, and comparing a row with any map must answer
 * true or false, never throw.
 */
@CompileStatic
class Row extends LinkedHashMap<String, Object> {
    Row() { }

    Row(Map<String, ?> values) { super(values) }

    /** The value of a column this row has, else a one-line error naming the columns. */
    Object column(String name) {
        if (!containsKey(name)) throw new DslException("no column '$name'; columns: ${keySet().join(', ')}")
        super.get(name)
    }

    /** {@code row['kind']} */
    Object getAt(String name) { column(name) }

    /** {@code row.kind}: Groovy property access on this map goes through here. */
    @Override
    Object getProperty(String name) {
        if (name == 'class') return getClass()
        column(name)
    }
}
