package dev.qcow2.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * QEMU's {@code KEY=VALUE,...} syntax with an implied first key (util/keyval.c keyval_parse, as
 * qemu-img 7.2 parses {@code --object}): {@code secret,id=sec0,data=a,,b} is
 * {@code {qom-type: secret, id: sec0, data: "a,b"}}.
 * <ul>
 *   <li>the first element may omit {@code KEY=}: it is the implied key's value, up to the first
 *       comma (no {@code ,,} escape there);</li>
 *   <li>a key is QAPI names joined by dots ({@code a.b=1} nests); values run to a single comma,
 *       {@code ,,} is a comma; the last of repeated keys wins;</li>
 *   <li>{@code help} or {@code ?} without {@code =} asks for help instead of parsing.</li>
 * </ul>
 * Errors are qemu's words. Values are kept as given (they may be secrets): no message quotes one.
 */
final class KeyValSyntax {
    private KeyValSyntax() { }

    /** The parsed tree (values: String or nested Map), and whether help was asked for. */
    record Parsed(Map<String, Object> tree, boolean help) { }

    static Parsed parse(String params, String impliedKey) {
        Map<String, Object> root = new LinkedHashMap<>();
        boolean help = false;
        int s = 0;
        String implied = impliedKey;
        while (s < params.length()) {
            int len = cspn(params, s, "=,");
            boolean isHelp = len > 0 && (s + len == params.length() || params.charAt(s + len) == ',')
                    && (params.startsWith("help", s) && len == 4 || params.startsWith("?", s) && len == 1);
            if (isHelp) {
                help = true;
                s += len;
                if (s < params.length()) s++;
                implied = null;
                continue;
            }
            String key;
            String value;
            if (implied != null && len > 0 && (s + len == params.length() || params.charAt(s + len) != '=')) {
                key = implied;
                value = params.substring(s, s + len);
                s += len;
                if (s < params.length()) s++;          // the comma
            } else {
                key = params.substring(s, s + len);
                checkKey(key);
                s += len;
                if (s >= params.length() || params.charAt(s) != '=') {
                    throw new Errors.CliException("Expected '=' after parameter '" + key + "'");
                }
                s++;
                StringBuilder v = new StringBuilder();
                while (s < params.length()) {
                    char c = params.charAt(s);
                    if (c == ',') {
                        s++;
                        if (s >= params.length() || params.charAt(s) != ',') break;
                    }
                    v.append(params.charAt(s++));
                }
                value = v.toString();
            }
            put(root, key, value);
            implied = null;
        }
        return new Parsed(root, help);
    }

    /** Each dot-separated fragment must be a QAPI name (keyval_parse_one; parse_qapi_name) or a list index. */
    private static void checkKey(String key) {
        String[] fragments = key.split("\\.", -1);
        for (int i = 0; i < fragments.length; i++) {
            String f = fragments[i];
            boolean ok = i > 0 && !f.isEmpty() && f.chars().allMatch(Character::isDigit) || isQapiName(f);
            if (!ok) throw new Errors.CliException("Invalid parameter '" + key + "'");
            if (f.length() > 127) throw new Errors.CliException("Parameter" + (fragments.length > 1 ? " fragment" : "") + " '" + f + "' is too long");
        }
    }

    /** qapi/qapi-util.c parse_qapi_name(complete=true): a letter, then letters, digits, '-', '_'. */
    static boolean isQapiName(String s) {
        if (s.isEmpty() || !isAsciiLetter(s.charAt(0))) return false;
        for (int i = 1; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!isAsciiLetter(c) && !(c >= '0' && c <= '9') && c != '-' && c != '_') return false;
        }
        return true;
    }

    private static boolean isAsciiLetter(char c) { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'; }

    @SuppressWarnings("unchecked")
    private static void put(Map<String, Object> root, String key, String value) {
        String[] fragments = key.split("\\.");
        Map<String, Object> cur = root;
        StringBuilder path = new StringBuilder();
        for (int i = 0; i < fragments.length - 1; i++) {
            path.append(fragments[i]);
            Object next = cur.get(fragments[i]);
            if (next == null) {
                next = new LinkedHashMap<String, Object>();
                cur.put(fragments[i], next);
            } else if (!(next instanceof Map)) {
                throw new Errors.CliException("Parameters '" + path + ".*' used inconsistently");
            }
            cur = (Map<String, Object>) next;
            path.append('.');
        }
        String last = fragments[fragments.length - 1];
        if (cur.get(last) instanceof Map) throw new Errors.CliException("Parameters '" + key + ".*' used inconsistently");
        cur.put(last, value);
    }

    private static int cspn(String s, int from, String stop) {
        int i = from;
        while (i < s.length() && stop.indexOf(s.charAt(i)) < 0) i++;
        return i - from;
    }
}
