package dev.qcow2.scan;

import java.util.List;
import java.util.Map;

/**
 * One JSON value on one line: the encoder of scan records, so the command line and the Spark job
 * write byte-identical lines (core has no JSON library). Handles what {@link ScanRecord#fields}
 * holds: maps (keys in their order), lists, strings, integral numbers, booleans and null.
 */
public final class JsonLine {
    private JsonLine() { }

    public static String of(Object value) {
        StringBuilder s = new StringBuilder(512);
        write(s, value);
        return s.toString();
    }

    private static void write(StringBuilder s, Object v) {
        switch (v) {
            case null -> s.append("null");
            case String str -> string(s, str);
            case Boolean b -> s.append(b);
            case Long n -> s.append(n);
            case Integer n -> s.append(n);
            case Map<?, ?> m -> {
                s.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!first) s.append(',');
                    first = false;
                    string(s, String.valueOf(e.getKey()));
                    s.append(':');
                    write(s, e.getValue());
                }
                s.append('}');
            }
            case List<?> l -> {
                s.append('[');
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) s.append(',');
                    write(s, l.get(i));
                }
                s.append(']');
            }
            default -> string(s, v.toString());
        }
    }

    /** RFC 8259 string: quote, backslash and control characters escaped. */
    private static void string(StringBuilder s, String str) {
        s.append('"');
        for (int i = 0; i < str.length(); i++) {
            char c = str.charAt(i);
            switch (c) {
                case '"' -> s.append("\\\"");
                case '\\' -> s.append("\\\\");
                case '\n' -> s.append("\\n");
                case '\r' -> s.append("\\r");
                case '\t' -> s.append("\\t");
                default -> {
                    if (c < 0x20) s.append(String.format("\\u%04x", (int) c)); else s.append(c);
                }
            }
        }
        s.append('"');
    }
}
