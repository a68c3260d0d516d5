package dev.qcow2.vmstate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal JSON reader for the VMDESCRIPTION QEMU writes (json-writer.c): objects become
 * ordered maps, arrays lists, numbers Long (Double when fractional), plus String, Boolean and
 * null. Malformed text fails with the character index.
 */
final class Json {
    private final String text;
    private int pos;

    private Json(String text) { this.text = text; }

    static Object parse(String text) {
        Json j = new Json(text);
        j.space();
        Object v = j.value(0);
        j.space();
        if (j.pos != text.length()) throw j.fail("text after the JSON value");
        return v;
    }

    private IllegalArgumentException fail(String what) {
        return new IllegalArgumentException("malformed JSON at character " + pos + ": " + what);
    }

    private void space() {
        while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) pos++;
    }

    private char next() {
        if (pos >= text.length()) throw fail("unexpected end");
        return text.charAt(pos++);
    }

    private void expect(char c) {
        if (next() != c) { pos--; throw fail("expected '" + c + "'"); }
    }

    private Object value(int depth) {
        if (depth > 200) throw fail("nested too deeply");
        if (pos >= text.length()) throw fail("unexpected end");
        char c = text.charAt(pos);
        return switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            default -> number();
        };
    }

    private Object literal(String word, Object v) {
        if (!text.startsWith(word, pos)) throw fail("unknown literal");
        pos += word.length();
        return v;
    }

    private Map<String, Object> object(int depth) {
        expect('{');
        Map<String, Object> m = new LinkedHashMap<>();
        space();
        if (pos < text.length() && text.charAt(pos) == '}') { pos++; return m; }
        while (true) {
            space();
            String key = string();
            space();
            expect(':');
            space();
            m.put(key, value(depth + 1));
            space();
            char c = next();
            if (c == '}') return m;
            if (c != ',') { pos--; throw fail("expected ',' or '}'"); }
        }
    }

    private List<Object> array(int depth) {
        expect('[');
        List<Object> l = new ArrayList<>();
        space();
        if (pos < text.length() && text.charAt(pos) == ']') { pos++; return l; }
        while (true) {
            space();
            l.add(value(depth + 1));
            space();
            char c = next();
            if (c == ']') return l;
            if (c != ',') { pos--; throw fail("expected ',' or ']'"); }
        }
    }

    private String string() {
        expect('"');
        StringBuilder sb = new StringBuilder();
        while (true) {
            char c = next();
            if (c == '"') return sb.toString();
            if (c != '\\') { sb.append(c); continue; }
            char e = next();
            switch (e) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'u' -> {
                    if (pos + 4 > text.length()) throw fail("short \\u escape");
                    try {
                        sb.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                    } catch (NumberFormatException ex) {
                        throw fail("bad \\u escape");
                    }
                    pos += 4;
                }
                default -> sb.append(e);
            }
        }
    }

    private Object number() {
        int start = pos;
        while (pos < text.length() && "+-0123456789.eE".indexOf(text.charAt(pos)) >= 0) pos++;
        String s = text.substring(start, pos);
        if (s.isEmpty()) throw fail("unexpected character '" + text.charAt(start) + "'");
        try {
            if (s.contains(".") || s.contains("e") || s.contains("E")) return Double.parseDouble(s);
            return Long.parseLong(s);
        } catch (NumberFormatException ex) {
            pos = start;
            throw fail("bad number '" + s + "'");
        }
    }
}
