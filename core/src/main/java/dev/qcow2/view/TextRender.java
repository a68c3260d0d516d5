package dev.qcow2.view;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Aligned plain text for terminals: one header line, a rule, numbers right-aligned; records as "name: value" lines. */
public final class TextRender {
    private TextRender() { }

    /** Every row. */
    public static String table(TableView t) { return table(t, Integer.MAX_VALUE); }

    /** At most {@code maxRows} rows, then a line saying how many more there are. */
    public static String table(TableView t, int maxRows) {
        List<Column> cols = t.columns();
        List<Map<String, Object>> shown = t.rows().size() > maxRows ? t.rows().subList(0, maxRows) : t.rows();
        List<List<String>> cells = new ArrayList<>(shown.size());
        int[] width = new int[cols.size()];
        for (int i = 0; i < cols.size(); i++) width[i] = cols.get(i).title().length();
        for (Map<String, Object> r : shown) {
            List<String> line = new ArrayList<>(cols.size());
            for (int i = 0; i < cols.size(); i++) {
                String s = cols.get(i).format(r.get(cols.get(i).name()));
                width[i] = Math.max(width[i], s.length());
                line.add(s);
            }
            cells.add(line);
        }
        StringBuilder out = new StringBuilder();
        out.append(line(cols.stream().map(Column::title).toList(), cols, width)).append('\n');
        List<String> rule = new ArrayList<>();
        for (int w : width) rule.add("-".repeat(w));
        out.append(line(rule, cols, width)).append('\n');
        for (List<String> l : cells) out.append(line(l, cols, width)).append('\n');
        if (t.rows().size() > shown.size()) {
            out.append("… ").append(t.rows().size() - shown.size()).append(" more rows (").append(t.rows().size()).append(" in all)\n");
        }
        if (t.rows().isEmpty()) out.append("(no rows)\n");
        return out.toString();
    }

    private static String line(List<String> cells, List<Column> cols, int[] width) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) sb.append("  ");
            String s = cells.get(i);
            String pad = " ".repeat(Math.max(0, width[i] - s.length()));
            sb.append(cols.get(i).rightAligned() ? pad + s : s + pad);
        }
        return sb.toString().stripTrailing();
    }

    /** One "name: value" line per field, names padded to the longest; a nested table or record is indented below its name. */
    public static String record(RecordView r) {
        int w = r.fields().keySet().stream().mapToInt(String::length).max().orElse(0);
        StringBuilder out = new StringBuilder();
        r.fields().forEach((k, v) -> {
            String shown = switch (v) {
                case TableView t -> table(t);
                case RecordView nested -> record(nested);
                case null, default -> r.format(k);
            };
            if (shown.contains("\n")) {
                out.append(k).append(":\n");
                shown.lines().forEach(l -> out.append("  ").append(l).append('\n'));
            } else {
                out.append((k + ":" + " ".repeat(w - k.length()))).append(' ').append(shown).append('\n');
            }
        });
        return out.toString();
    }

    /** A table or a record. */
    public static String of(Object view) {
        return switch (view) {
            case TableView t -> table(t);
            case RecordView r -> record(r);
            default -> throw new IllegalArgumentException("not a view: " + view);
        };
    }
}
