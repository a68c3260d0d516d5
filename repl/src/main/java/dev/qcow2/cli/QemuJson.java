package dev.qcow2.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * JSON and indented text printed byte for byte as qemu-img 7.2 prints QAPI objects.
 * <ul>
 *   <li>{@link #pretty}: qobject_to_json_pretty (qobject/json-writer.c): four-space indentation,
 *       {@code "key": value}, an empty container still opens a line ({@code "[\n    ]"}), strings
 *       escaped as quoted_str does (non-ASCII and control characters as {@code \}{@code uXXXX});</li>
 *   <li>{@link #human}: dump_qdict/dump_qlist (block/qapi.c) for "Format specific information".</li>
 * </ul>
 * Key order: QEMU iterates a QDict bucket by bucket (tdb_hash(key) % 512), newest entry first
 * within a bucket. Callers pass maps in QAPI visiting order (insertion order); both printers
 * reorder them the same way, so the output matches qemu-img's exactly.
 */
public final class QemuJson {
    private QemuJson() { }

    /**
     * Jackson, for records and beans the printers meet (and for dump's JSON). Made on first use:
     * creating an ObjectMapper initialises dates, calendars and locale providers, ~20 ms that
     * {@code qcow2 info}'s own maps and lists never need.
     */
    public static ObjectMapper mapper() { return Mapper.INSTANCE; }

    private static final class Mapper {
        static final ObjectMapper INSTANCE = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
    }

    private static final int QDICT_BUCKET_MAX = 512;

    /** qobject/qdict.c tdb_hash. */
    static int tdbHash(String name) {
        byte[] b = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int value = 0x238F13AF * b.length;
        for (int i = 0; i < b.length; i++) value = value + ((b[i] & 0xff) << (i * 5 % 24));
        return 1103515243 * value + 12345;
    }

    static int bucket(String key) { return Integer.remainderUnsigned(tdbHash(key), QDICT_BUCKET_MAX); }

    /** The keys of {@code dict} in the order QEMU's qdict_first/qdict_next visit them. */
    static List<String> qdictOrder(Map<String, ?> dict) {
        List<String> keys = new ArrayList<>(dict.keySet());
        List<String> insertion = List.copyOf(keys);
        keys.sort(Comparator.<String>comparingInt(QemuJson::bucket)
                .thenComparing(k -> -insertion.indexOf(k)));
        return keys;
    }

    /** Pretty-printed like qemu-img, with a trailing newline. */
    public static String pretty(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, normalize(value), 0);
        return sb.append('\n').toString();
    }

    @SuppressWarnings("unchecked")
    private static Object normalize(Object value) {
        if (value == null || value instanceof Map || value instanceof List || value instanceof String
                || value instanceof Number || value instanceof Boolean) return value;
        return mapper().convertValue(value, Object.class);
    }

    @SuppressWarnings("unchecked")
    private static void write(StringBuilder sb, Object v, int depth) {
        v = normalize(v);
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> dict = (Map<String, Object>) m;
            sb.append('{');
            boolean first = true;
            for (String k : qdictOrder(dict)) {
                if (!first) sb.append(',');
                first = false;
                newline(sb, depth + 1);
                quoted(sb, k);
                sb.append(": ");
                write(sb, dict.get(k), depth + 1);
            }
            newline(sb, depth);
            sb.append('}');
        } else if (v instanceof List<?> list) {
            sb.append('[');
            boolean first = true;
            for (Object e : list) {
                if (!first) sb.append(',');
                first = false;
                newline(sb, depth + 1);
                write(sb, e, depth + 1);
            }
            newline(sb, depth);
            sb.append(']');
        } else if (v instanceof String s) {
            quoted(sb, s);
        } else if (v == null) {
            sb.append("null");
        } else {
            sb.append(v);
        }
    }

    private static void newline(StringBuilder sb, int depth) {
        sb.append('\n').append(" ".repeat(4 * depth));
    }

    /** json-writer.c quoted_str. */
    static void quoted(StringBuilder sb, String s) {
        sb.append('"');
        s.codePoints().forEach(cp -> {
            switch (cp) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (cp > 0xFFFF) {
                        for (char c : Character.toChars(cp)) sb.append(String.format("\\u%04X", (int) c));
                    } else if (cp < 0x20 || cp >= 0x7F) {
                        sb.append(String.format("\\u%04X", cp));
                    } else {
                        sb.append((char) cp);
                    }
                }
            }
        });
        sb.append('"');
    }

    /** block/qapi.c dump_qobject at {@code indentation} (4 spaces a level), keys with '-' shown as ' '. */
    @SuppressWarnings("unchecked")
    public static String human(Object value, int indentation) {
        StringBuilder sb = new StringBuilder();
        dump(sb, normalize(value), indentation);
        return sb.toString();
    }

    @SuppressWarnings("unchecked")
    private static void dump(StringBuilder sb, Object v, int indentation) {
        v = normalize(v);
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> dict = (Map<String, Object>) m;
            for (String k : qdictOrder(dict)) {
                Object value = normalize(dict.get(k));
                boolean composite = value instanceof Map || value instanceof List;
                sb.append(" ".repeat(indentation * 4)).append(k.replace('-', ' ')).append(':')
                        .append(composite ? '\n' : ' ');
                dump(sb, value, indentation + 1);
            }
        } else if (v instanceof List<?> list) {
            int i = 0;
            for (Object e : list) {
                Object value = normalize(e);
                boolean composite = value instanceof Map || value instanceof List;
                sb.append(" ".repeat(indentation * 4)).append('[').append(i++).append("]:").append(composite ? '\n' : ' ');
                dump(sb, value, indentation + 1);
            }
        } else {
            sb.append(v).append('\n');
        }
    }
}
