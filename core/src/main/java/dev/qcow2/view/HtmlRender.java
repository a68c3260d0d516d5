package dev.qcow2.view;

import java.util.Map;

/** HTML for notebooks: a {@code <table class="qcow2">} with a caption and a header row; numbers right-aligned. */
public final class HtmlRender {
    private HtmlRender() { }

    public static String table(TableView t) {
        StringBuilder out = new StringBuilder("<table class=\"qcow2\">");
        if (t.title() != null && !t.title().isEmpty()) {
            out.append("<caption>").append(esc(t.title())).append(" (").append(t.size()).append(" rows)</caption>");
        }
        out.append("<thead><tr>");
        for (Column c : t.columns()) out.append("<th>").append(esc(c.title())).append("</th>");
        out.append("</tr></thead><tbody>");
        for (Map<String, Object> r : t.rows()) {
            out.append("<tr>");
            for (Column c : t.columns()) {
                out.append(c.rightAligned() ? "<td style=\"text-align:right\">" : "<td>");
                out.append(esc(c.format(r.get(c.name())))).append("</td>");
            }
            out.append("</tr>");
        }
        return out.append("</tbody></table>").toString();
    }

    public static String record(RecordView r) {
        StringBuilder out = new StringBuilder("<table class=\"qcow2\">");
        if (r.title() != null && !r.title().isEmpty()) out.append("<caption>").append(esc(r.title())).append("</caption>");
        out.append("<thead><tr><th>field</th><th>value</th></tr></thead><tbody>");
        r.fields().forEach((k, v) -> {
            out.append("<tr><th style=\"text-align:left\">").append(esc(k)).append("</th><td>");
            switch (v) {
                case TableView t -> out.append(table(t));
                case RecordView nested -> out.append(record(nested));
                case null, default -> out.append(esc(r.format(k)));
            }
            out.append("</td></tr>");
        });
        return out.append("</tbody></table>").toString();
    }

    /** The text dump, preformatted. */
    public static String hexdump(HexdumpView h) {
        return "<pre class=\"qcow2-hexdump\">" + esc(TextRender.hexdump(h)) + "</pre>";
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

    public static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
