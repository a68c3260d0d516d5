package dev.qcow2.dsl

import com.fasterxml.jackson.annotation.JsonValue
import dev.qcow2.view.HtmlRender
import dev.qcow2.view.JsonShape
import dev.qcow2.view.TableView
import dev.qcow2.view.TextRender
import groovy.transform.CompileStatic

/**
 * A result made of rows: what {@code walk}, {@code map}, {@code refcounts}, {@code snapshot.list}
 * and friends return. It is a value: it iterates in Groovy ({@code each}, {@code findAll},
 * {@code collect}, {@code size}, {@code [0]}), and renders as aligned text ({@link #toString}),
 * as an HTML table for notebooks ({@link #toHtml}) and as JSON ({@link #toJson}: an array of row
 * objects with raw numbers, each starting with the table's record {@code type}). Rendering is the
 * core's ({@code dev.qcow2.view}), the same the CLI's {@code dump} uses. {@code findAll},
 * {@code sort} and {@code take} return tables again, so a filtered result still renders as one.
 */
@CompileStatic
class Table implements Iterable<Row> {
    /** Text rendering stops after this many rows (and says how many more there are). */
    static int maxTextRows = 500

    final String title
    final List<Column> columns
    final List<Row> rows
    /** The JSON record type of the rows (README "JSON record types"); null for ad-hoc tables. */
    final String type

    Table(String title, List<Column> columns, List<Row> rows, String type = null) {
        this.title = title
        this.columns = List.copyOf(columns)
        this.rows = Collections.unmodifiableList(new ArrayList<Row>(rows))
        this.type = type
    }

    /** A builder-style start: {@code Table.of('map', [Column.hex('start'), ...])}. */
    static Builder of(String title, List<Column> columns, String type = null) { new Builder(title, columns, type) }

    /** The DSL face of a view the core built. */
    static Table from(TableView v) {
        new Table(v.title(), v.columns().collect { Column.from(it) }, v.rows().collect { new Row(it) }, v.type())
    }

    static final class Builder {
        private final String title
        private final List<Column> columns
        private final String type
        private final List<Row> rows = []

        Builder(String title, List<Column> columns, String type = null) {
            this.title = title
            this.columns = columns
            this.type = type
        }

        /** Adds a row given in column order. */
        Builder add(Object... values) {
            if (values.length != columns.size()) {
                throw new IllegalArgumentException("$title: ${values.length} values for ${columns.size()} columns")
            }
            def row = new Row()
            columns.eachWithIndex { Column c, int i -> row.put(c.name, values[i]) }
            rows << row
            this
        }

        int size() { rows.size() }

        Table build() { new Table(title, columns, rows, type) }
    }

    @Override Iterator<Row> iterator() { rows.iterator() }

    int size() { rows.size() }

    boolean isEmpty() { rows.isEmpty() }

    Row getAt(int index) { rows[index] }

    List<String> getColumnNames() { columns*.name }

    /** The values of one column, in row order: {@code walk(l2).column('host_offset')}. */
    List<Object> column(String name) {
        if (!columnNames.contains(name)) throw new DslException("no column '$name'; columns: ${columnNames.join(', ')}")
        rows.collect { Row r -> r.column(name) }
    }

    Table findAll(Closure<?> predicate) { derived(rows.findAll(predicate)) }

    Table sort(Closure<?> key) { derived(rows.toSorted(key)) }

    Table take(int n) { derived(rows.take(n)) }

    private Table derived(List<Row> subset) { new Table(title, columns, subset, type) }

    /** Groovy truth: a table is true when it has rows ({@code if (refcounts.leaks) ...}). */
    boolean asBoolean() { !rows.isEmpty() }

    /** The core's view of these rows, which every front end renders. */
    TableView toView() {
        new TableView(type, title, columns.collect { Column c -> c.toView() }, rows.collect { Row r -> Record.viewValues(r) })
    }

    @Override String toString() { TextRender.table(toView(), maxTextRows) }

    String toHtml() { HtmlRender.table(toView()) }

    String toJson() { Json.write(jsonValue()) }

    /** Also nested in a record's JSON: the array of typed row objects. */
    @JsonValue List<Map<String, Object>> jsonValue() { JsonShape.rows(toView()) }
}
