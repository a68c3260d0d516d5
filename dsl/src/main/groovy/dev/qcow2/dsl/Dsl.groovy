package dev.qcow2.dsl

/**
 * Entry points for callers that do not keep a shell: {@code Dsl.evaluate("open 'd.qcow2'; info")}
 * runs the text in a fresh session and closes it. Keep a {@link DslShell} for a conversation.
 */
final class Dsl {
    private Dsl() { }

    static Object evaluate(String code) {
        new DslShell().withCloseable { it.evaluate(code) }
    }

    static DslShell shell() { new DslShell() }

    private static DslShell shared

    /**
     * The one session of this JVM for Java callers without a shell of their own ({@code dsl("…")}
     * in {@code qcow2 jshell}): made on first use, with {@code file} opened if not null.
     */
    static synchronized DslShell shared(FrontEnd frontEnd, String file) {
        if (shared == null) {
            def s = new DslShell()
            s.frontEnd = frontEnd
            if (file != null) s.session.open(file)
            shared = s
        }
        shared
    }

    /** Text, HTML or JSON of any DSL value (tables, records, hexdumps; other values as they print). */
    static String render(Object value, String format = 'text') {
        switch (format) {
            case 'text': return value == null ? '' : value.toString()
            case 'html':
                if (value instanceof Table || value instanceof Record || value instanceof Hexdump) return value.toHtml()
                return '<pre>' + dev.qcow2.view.HtmlRender.esc(String.valueOf(value)) + '</pre>'
            case 'json':
                if (value instanceof Table || value instanceof Record || value instanceof Hexdump) return value.toJson()
                return Json.write(value)
            default: throw new DslException("render: format is text, html or json, not '$format'")
        }
    }
}
