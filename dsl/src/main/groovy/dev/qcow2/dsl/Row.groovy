package dev.qcow2.dsl

import groovy.transform.CompileStatic

/**
 * One table row: an ordered map from column name to value, so {@code row.guest_offset},
 * {@code row['kind']} and {@code row.kind == 'compressed'} all work in Groovy. Asking for a
 * column the table does not have is a one-line error listing the columns (a typo must not read
 * as null and silently filter everything out).
 */
@CompileStatic
class Row extends LinkedHashMap<String, Object> {
    Row() { }

    Row(Map<String, ?> values) { super(values) }

    @Override
    Object get(Object key) {
        if (!containsKey(key)) throw new DslException("no column '$key'; columns: ${keySet().join(', ')}")
        super.get(key)
    }

    /** Groovy property access ({@code row.kind}) for map subclasses goes through here. */
    Object propertyMissing(String name) { get(name) }
}
