package dev.qcow2.view;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A result made of rows of one record type ({@code dump l2} / {@code walk l2}, {@code dump
 * refcounts} / {@code refcounts}, …), built once from the core and rendered by every front end:
 * {@link TextRender} for terminals, {@link HtmlRender} for notebooks, {@link JsonShape} for
 * {@code --output=json} and the DSL's {@code toJson()}.
 *
 * @param type    the JSON record type of every row ({@code "l2-entry"}); see the README table
 *                "JSON record types". Null only for ad-hoc tables a user builds.
 * @param title   what the rows are ("L2 entries of guest"); shown by HTML, not part of the data
 * @param columns the columns in display order; every row has exactly these keys, in this order
 * @param rows    column name to value (numbers stay numbers; null when a cell does not apply);
 *                handed over to the view, which wraps them read-only without copying
 */
public record TableView(String type, String title, List<Column> columns, List<Map<String, Object>> rows) {
    public TableView {
        columns = List.copyOf(columns);
        // rows are handed over, not copied (a refcount view of a large image has millions): each
        // is wrapped read-only; the builder and the DSL make fresh maps for every view
        List<Map<String, Object>> wrapped = new ArrayList<>(rows.size());
        for (Map<String, Object> r : rows) wrapped.add(Collections.unmodifiableMap(r));
        rows = Collections.unmodifiableList(wrapped);
        if (type != null && columns.stream().anyMatch(c -> c.name().equals(JsonShape.TYPE))) {
            throw new IllegalArgumentException(type + ": a column may not be called '" + JsonShape.TYPE + "' (the JSON record type)");
        }
    }

    public static Builder of(String type, String title, List<Column> columns) { return new Builder(type, title, columns); }

    public int size() { return rows.size(); }

    public List<String> columnNames() { return columns.stream().map(Column::name).toList(); }

    /** Collects rows given in column order. */
    public static final class Builder {
        private final String type;
        private final String title;
        private final List<Column> columns;
        private final List<Map<String, Object>> rows = new ArrayList<>();

        Builder(String type, String title, List<Column> columns) {
            this.type = type;
            this.title = title;
            this.columns = List.copyOf(columns);
        }

        /** Adds a row given in column order (a wrong count is a programming error). */
        public Builder add(Object... values) {
            if (values.length != columns.size()) {
                throw new IllegalArgumentException(title + ": " + values.length + " values for " + columns.size() + " columns");
            }
            Map<String, Object> row = new LinkedHashMap<>();
            for (int i = 0; i < values.length; i++) row.put(columns.get(i).name(), values[i]);
            rows.add(row);
            return this;
        }

        public int size() { return rows.size(); }

        public TableView build() { return new TableView(type, title, columns, rows); }
    }
}
