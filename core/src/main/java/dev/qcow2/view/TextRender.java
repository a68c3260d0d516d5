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

    /**
     * A header line ("guest 0x10000 +512"), then 16 bytes a line: offset, hex in two groups of
     * eight, printable ASCII; runs of identical lines collapse to "*" as in hexdump(1) and
     * qemu-io (a zero cluster is three lines), the last line is always shown.
     */
    public static String hexdump(HexdumpView h) {
        byte[] bytes = h.bytes();
        StringBuilder out = new StringBuilder(h.space()).append(' ').append(Cells.hex(h.offset())).append(" +")
                .append(bytes.length).append('\n');
        String prev = null;
        boolean starred = false;
        for (int at = 0; at < bytes.length; at += 16) {
            int n = Math.min(16, bytes.length - at);
            String body = hexPart(bytes, at, n);
            boolean last = at + 16 >= bytes.length;
            if (body.equals(prev) && !last) {
                if (!starred) out.append("*\n");
                starred = true;
                continue;
            }
            starred = false;
            prev = body;
            out.append(String.format("%08x", h.offset() + at)).append("  ").append(body).append("  |")
                    .append(asciiPart(bytes, at, n)).append("|\n");
        }
        return out.toString();
    }

    private static String hexPart(byte[] bytes, int at, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            sb.append(i < n ? String.format("%02x", bytes[at + i] & 0xff) : "  ");
            sb.append(i == 7 ? "  " : " ");
        }
        String s = sb.toString().stripTrailing();
        return s + " ".repeat(Math.max(0, 48 - s.length()));
    }

    private static String asciiPart(byte[] bytes, int at, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int c = bytes[at + i] & 0xff;
            sb.append(c >= 0x20 && c < 0x7f ? (char) c : '.');
        }
        return sb.toString();
    }

    /** A table, a record or a hexdump. */
    public static String of(Object view) {
        return switch (view) {
            case TableView t -> table(t);
            case RecordView r -> record(r);
            case HexdumpView h -> hexdump(h);
            default -> throw new IllegalArgumentException("not a view: " + view);
        };
    }
}
