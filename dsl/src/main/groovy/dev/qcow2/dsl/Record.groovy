package dev.qcow2.dsl

import com.fasterxml.jackson.annotation.JsonValue
import dev.qcow2.view.HtmlRender
import dev.qcow2.view.JsonShape
import dev.qcow2.view.RecordView
import dev.qcow2.view.TextRender
import dev.qcow2.view.Unit as ViewUnit
import groovy.transform.CompileStatic

/**
 * A single result with named fields ({@code info}, {@code header}, {@code check},
 * {@code refcounts.of(n)}, what a write or repair did): {@code info.virtual_size} reads a field;
 * it renders (through the core's {@code dev.qcow2.view}, as the CLI's {@code dump}) as
 * "name: value" lines, an HTML two-column table, and a JSON object starting with its record
 * {@code type}. Offsets show in hex, byte counts with a human-readable size.
 */
@CompileStatic
class Record {
    final String title
    final Map<String, Object> fields
    final Map<String, Column.Unit> units
    /** The JSON record type (README "JSON record types"); null for ad-hoc records. */
    final String type

    /** @param units how numeric fields render: HEX offsets as 0x…, BYTES as "4194304 (4 MiB)" */
    Record(String title, Map<String, ?> fields, Map<String, Column.Unit> units = [:], String type = null) {
        this.title = title
        this.fields = Collections.unmodifiableMap(new LinkedHashMap<String, Object>(fields))
        this.units = Map.copyOf(units)
        this.type = type
    }

    /** The DSL face of a record the core built (nested tables become DSL tables). */
    static Record from(RecordView v) {
        Map<String, Object> f = new LinkedHashMap<>()
        v.fields().each { String k, Object val -> f.put(k, val instanceof dev.qcow2.view.TableView ? Table.from(val) : val) }
        Map<String, Column.Unit> u = [:]
        v.units().each { String k, ViewUnit unit -> u.put(k, Column.Unit.valueOf(unit.name())) }
        new Record(v.title(), f, u, v.type())
    }

    Object propertyMissing(String name) { getAt(name) }

    Object getAt(String name) {
        if (!fields.containsKey(name)) throw new DslException("no field '$name' in $title; fields: ${fields.keySet().join(', ')}")
        fields[name]
    }

    /** The same record without some fields ({@code info.without 'file'}: e.g. to keep temporary paths out of a stored notebook). */
    Record without(String... names) {
        names.each { String n -> getAt(n) }      // a misspelt name is an error, not a no-op
        new Record(title, fields.findAll { k, v -> !(k in names) }, units, type)
    }

    String format(String name, Object v) {
        dev.qcow2.view.Cells.inRecord(units[name] == null ? ViewUnit.PLAIN : ViewUnit.valueOf(units[name].name()), v)
    }

    /** The core's view of this record, which every front end renders. */
    RecordView toView() {
        Map<String, ViewUnit> u = [:]
        units.each { String k, Column.Unit unit -> u.put(k, ViewUnit.valueOf(unit.name())) }
        new RecordView(type, title, viewValues(fields), u)
    }

    /** Nested DSL tables and records as the core's views, other values as they are. */
    static Map<String, Object> viewValues(Map<String, Object> values) {
        Map<String, Object> out = new LinkedHashMap<>()
        values.each { String k, Object v ->
            out.put(k, v instanceof Table ? ((Table) v).toView() : v instanceof Record ? ((Record) v).toView() : v)
        }
        out
    }

    @Override String toString() { TextRender.record(toView()) }

    String toHtml() { HtmlRender.record(toView()) }

    String toJson() { Json.write(jsonValue()) }

    @JsonValue Map<String, Object> jsonValue() { JsonShape.record(toView()) }
}
