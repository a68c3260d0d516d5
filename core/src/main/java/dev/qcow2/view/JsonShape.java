package dev.qcow2.view;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON form of a view as plain maps and lists, for the front ends' Jackson mappers to write
 * (core has no JSON library): a table is an array of objects, a record one object; every object
 * starts with {@code "type"} (the view's record type, README "JSON record types") followed by
 * every column or field, null where a cell does not apply, so the field set of a type is stable.
 * Numbers stay numbers (offsets are not hex strings).
 */
public final class JsonShape {
    /** The key every JSON record starts with. */
    public static final String TYPE = "type";

    private JsonShape() { }

    /** A table, a record, or (nested values) anything else unchanged. */
    public static Object of(Object view) {
        return switch (view) {
            case TableView t -> rows(t);
            case RecordView r -> record(r);
            case HexdumpView h -> hexdump(h);
            case null, default -> view;
        };
    }

    public static List<Map<String, Object>> rows(TableView t) {
        List<Map<String, Object>> out = new ArrayList<>(t.rows().size());
        for (Map<String, Object> row : t.rows()) {
            Map<String, Object> m = new LinkedHashMap<>();
            if (t.type() != null) m.put(TYPE, t.type());
            for (Column c : t.columns()) m.put(c.name(), of(row.get(c.name())));
            out.add(m);
        }
        return out;
    }

    /** {@code {"type":"hexdump","space":…,"offset":…,"length":…,"hex":"…"}}: the bytes as lower-case hex. */
    public static Map<String, Object> hexdump(HexdumpView h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(TYPE, HexdumpView.TYPE);
        m.put("space", h.space());
        m.put("offset", h.offset());
        m.put("length", h.bytes().length);
        m.put("hex", Column.hexBytes(h.bytes()));
        return m;
    }

    public static Map<String, Object> record(RecordView r) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (r.type() != null) m.put(TYPE, r.type());
        r.fields().forEach((k, v) -> m.put(k, of(v)));
        return m;
    }
}
