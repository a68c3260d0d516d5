package dev.qcow2.dsl

import com.fasterxml.jackson.annotation.JsonValue
import groovy.transform.CompileStatic

/**
 * A single result with named fields ({@code info}, {@code header}, {@code check},
 * {@code refcounts.of(n)}, what a write or repair did): {@code info.virtual_size} reads a field;
 * it renders as "name: value" lines, an HTML two-column table, and a JSON object. Offsets show in
 * hex, byte counts with a human-readable size.
 */
@CompileStatic
class Record {
    final String title
    final Map<String, Object> fields
    final Map<String, Column.Unit> units

    /** @param units how numeric fields render: HEX offsets as 0x…, BYTES as "4194304 (4 MiB)" */
    Record(String title, Map<String, ?> fields, Map<String, Column.Unit> units = [:]) {
        this.title = title
        this.fields = Collections.unmodifiableMap(new LinkedHashMap<String, Object>(fields))
        this.units = Map.copyOf(units)
    }

    Object propertyMissing(String name) { getAt(name) }

    Object getAt(String name) {
        if (!fields.containsKey(name)) throw new DslException("no field '$name' in $title; fields: ${fields.keySet().join(', ')}")
        fields[name]
    }

    /** The same record without some fields ({@code info.without 'file'}: e.g. to keep temporary paths out of a stored notebook). */
    Record without(String... names) {
        names.each { String n -> getAt(n) }      // a misspelt name is an error, not a no-op
        new Record(title, fields.findAll { k, v -> !(k in names) }, units)
    }

    String format(String name, Object v) {
        if (v == null) return ''
        if (v instanceof Number && units[name] == Column.Unit.HEX) return Sizes.hex(((Number) v).longValue())
        if (v instanceof Number && units[name] == Column.Unit.BYTES) {
            long n = ((Number) v).longValue()
            return n < 1024 ? "$n" : "$n (${Sizes.human(n)})"
        }
        if (v instanceof Collection) return ((Collection) v).join(', ')
        v.toString()
    }

    @Override String toString() { TextRender.record(this) }

    String toHtml() { HtmlRender.record(this) }

    String toJson() { Json.write(fields) }

    @JsonValue Map<String, Object> jsonValue() { fields }
}
