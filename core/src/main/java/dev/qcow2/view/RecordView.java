package dev.qcow2.view;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A single result with named fields ({@code dump header} / {@code header}): rendered as
 * "name: value" lines, a two-column HTML table, or one JSON object carrying {@code type}.
 * A field may hold a nested {@link TableView} or {@link RecordView}.
 *
 * @param type   the JSON record type ({@code "header"}); see the README table "JSON record types"
 * @param units  how numeric fields are shown (fields not named are {@link Unit#PLAIN})
 */
public record RecordView(String type, String title, Map<String, Object> fields, Map<String, Unit> units) {
    public RecordView {
        fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
        units = Map.copyOf(units);
        if (type != null && fields.containsKey(JsonShape.TYPE)) {
            throw new IllegalArgumentException(type + ": a field may not be called '" + JsonShape.TYPE + "' (the JSON record type)");
        }
    }

    public Unit unit(String field) { return units.getOrDefault(field, Unit.PLAIN); }

    /** The text shown for one field. */
    public String format(String field) { return Cells.inRecord(unit(field), fields.get(field)); }
}
