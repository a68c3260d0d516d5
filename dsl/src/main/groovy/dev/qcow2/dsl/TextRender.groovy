package dev.qcow2.dsl

import groovy.transform.CompileStatic

/** Aligned plain-text rendering for terminals: numbers right-aligned, one header line, a rule. */
@CompileStatic
final class TextRender {
    private TextRender() { }

    static String table(Table t, int maxRows) {
        List<Column> cols = t.columns
        List<Row> shown = t.rows.size() > maxRows ? t.rows.subList(0, maxRows) : t.rows
        List<List<String>> cells = shown.collect { Row r -> cols.collect { Column c -> c.format(r.containsKey(c.name) ? r[c.name] : null) } }
        int[] width = new int[cols.size()]
        cols.eachWithIndex { Column c, int i -> width[i] = c.title().length() }
        for (List<String> line : cells) line.eachWithIndex { String s, int i -> width[i] = Math.max(width[i], s.length()) }
        def out = new StringBuilder()
        out << line(cols.collect { Column c -> c.title() }, cols, width) << '\n'
        out << line(cols.collect { Column c -> '-' * width[cols.indexOf(c)] }, cols, width) << '\n'
        for (List<String> l : cells) out << line(l, cols, width) << '\n'
        if (t.rows.size() > shown.size()) out << "… ${t.rows.size() - shown.size()} more rows (${t.rows.size()} in all)\n"
        if (t.rows.isEmpty()) out << "(no rows)\n"
        out.toString()
    }

    private static String line(List<String> cells, List<Column> cols, int[] width) {
        def parts = []
        cells.eachWithIndex { String s, int i ->
            parts << (cols[i].rightAligned() ? s.padLeft(width[i]) : s.padRight(width[i]))
        }
        parts.join('  ').replaceAll(/\s+$/, '')
    }

    /** A record: one "name: value" line per field, names padded to the longest. */
    static String record(Record r) {
        int w = r.fields.keySet().collect { String k -> k.length() }.max() ?: 0
        r.fields.collect { String k, Object v ->
            String shown = r.format(k, v)
            shown.contains('\n') ? "$k:\n" + shown.readLines().collect { '  ' + it }.join('\n') : "${(k + ':').padRight(w + 1)} $shown"
        }.join('\n') + '\n'
    }
}
