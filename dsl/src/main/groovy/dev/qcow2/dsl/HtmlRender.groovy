package dev.qcow2.dsl

import groovy.transform.CompileStatic

/** HTML for notebooks: a {@code <table>} with a header row; offsets in hex, numbers right-aligned. */
@CompileStatic
final class HtmlRender {
    private HtmlRender() { }

    static String table(Table t) {
        def out = new StringBuilder('<table class="qcow2">')
        if (t.title) out << '<caption>' << esc(t.title) << " (${t.size()} rows)</caption>"
        out << '<thead><tr>'
        for (Column c : t.columns) out << '<th>' << esc(c.title()) << '</th>'
        out << '</tr></thead><tbody>'
        for (Row r : t.rows) {
            out << '<tr>'
            for (Column c : t.columns) {
                out << (c.rightAligned() ? '<td style="text-align:right">' : '<td>')
                out << esc(c.format(r.containsKey(c.name) ? r[c.name] : null)) << '</td>'
            }
            out << '</tr>'
        }
        out << '</tbody></table>'
        out.toString()
    }

    static String record(Record r) {
        def out = new StringBuilder('<table class="qcow2">')
        if (r.title) out << '<caption>' << esc(r.title) << '</caption>'
        out << '<thead><tr><th>field</th><th>value</th></tr></thead><tbody>'
        r.fields.each { String k, Object v ->
            out << '<tr><th style="text-align:left">' << esc(k) << '</th><td>'
            if (v instanceof Table) out << ((Table) v).toHtml()
            else if (v instanceof Record) out << ((Record) v).toHtml()
            else out << esc(r.format(k, v))
            out << '</td></tr>'
        }
        out << '</tbody></table>'
        out.toString()
    }

    static String esc(String s) {
        s.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;').replace('"', '&quot;')
    }
}
