package dev.qcow2.create;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code -o key=value,...} options of qemu-img create/measure for the qcow2 format, parsed
 * like QEMU's qemu_opts_do_parse: {@code ,,} is a literal comma, a key without {@code =} means
 * {@code on}, a later value replaces an earlier one. Values are kept as typed, because qemu-img's
 * "Formatting ..." line echoes strings and booleans verbatim and sizes and numbers as parsed
 * (qemu_opts_print over the merged qcow2 + file create-option list, in that list's order).
 */
public final class OptionList {

    enum Type { STRING, BOOL, SIZE, NUMBER }

    /** One create option: name, type, and the default qemu prints when it is not given. */
    record Def(String name, Type type, String defaultValue) { }

    /** QEMU 7.2's qcow2_create_opts followed by file-posix's, in qemu_opts_print order. */
    static final List<Def> DEFS = List.of(
            new Def("encryption", Type.BOOL, null),
            new Def("encrypt.format", Type.STRING, null),
            new Def("encrypt.key-secret", Type.STRING, null),
            new Def("encrypt.cipher-alg", Type.STRING, null),
            new Def("encrypt.cipher-mode", Type.STRING, null),
            new Def("encrypt.ivgen-alg", Type.STRING, null),
            new Def("encrypt.ivgen-hash-alg", Type.STRING, null),
            new Def("encrypt.hash-alg", Type.STRING, null),
            new Def("encrypt.iter-time", Type.NUMBER, null),
            new Def("cluster_size", Type.SIZE, "65536"),
            new Def("extended_l2", Type.BOOL, "off"),
            new Def("preallocation", Type.STRING, null),
            new Def("compression_type", Type.STRING, "zlib"),
            new Def("size", Type.SIZE, null),
            new Def("compat", Type.STRING, null),
            new Def("backing_file", Type.STRING, null),
            new Def("backing_fmt", Type.STRING, null),
            new Def("data_file", Type.STRING, null),
            new Def("data_file_raw", Type.BOOL, null),
            new Def("lazy_refcounts", Type.BOOL, "off"),
            new Def("refcount_bits", Type.NUMBER, "16"),
            new Def("nocow", Type.BOOL, null),
            new Def("extent_size_hint", Type.SIZE, null));

    /** The help text of {@code -o help}, qemu-img 7.2's (options sorted by name). */
    public static final String HELP = String.join("\n",
            "Supported options:",
            "  backing_file=<str>     - File name of a base image",
            "  backing_fmt=<str>      - Image format of the base image",
            "  cluster_size=<size>    - qcow2 cluster size",
            "  compat=<str>           - Compatibility level (v2 [0.10] or v3 [1.1])",
            "  compression_type=<str> - Compression method used for image cluster compression",
            "  data_file=<str>        - File name of an external data file",
            "  data_file_raw=<bool (on/off)> - The external data file must stay valid as a raw image",
            "  encrypt.cipher-alg=<str> - Name of encryption cipher algorithm",
            "  encrypt.cipher-mode=<str> - Name of encryption cipher mode",
            "  encrypt.format=<str>   - Encrypt the image, format choices: 'aes', 'luks'",
            "  encrypt.hash-alg=<str> - Name of encryption hash algorithm",
            "  encrypt.iter-time=<num> - Time to spend in PBKDF in milliseconds",
            "  encrypt.ivgen-alg=<str> - Name of IV generator algorithm",
            "  encrypt.ivgen-hash-alg=<str> - Name of IV generator hash algorithm",
            "  encrypt.key-secret=<str> - ID of secret providing qcow AES key or LUKS passphrase",
            "  encryption=<bool (on/off)> - Encrypt the image with format 'aes'. (Deprecated in favor of encrypt.format=aes)",
            "  extended_l2=<bool (on/off)> - Extended L2 tables",
            "  extent_size_hint=<size> - Extent size hint for the image file, 0 to disable",
            "  lazy_refcounts=<bool (on/off)> - Postpone refcount updates",
            "  nocow=<bool (on/off)>  - Turn off copy-on-write (valid only on btrfs)",
            "  preallocation=<str>    - Preallocation mode (allowed values: off, metadata, falloc, full)",
            "  refcount_bits=<num>    - Width of a reference count entry in bits",
            "  size=<size>            - Virtual disk size");

    private final Map<String, String> raw = new LinkedHashMap<>();

    /** Parses one {@code -o} argument and adds its options; throws with qemu's message. */
    public OptionList add(String text) {
        for (Map.Entry<String, String> kv : split(text)) set(kv.getKey(), kv.getValue());
        return this;
    }

    /**
     * Splits one {@code -o} argument into its {@code key=value} pairs in order, as
     * qemu_opts_do_parse does ({@code ,,} is a literal comma; a bare key means {@code on}).
     */
    public static List<Map.Entry<String, String>> split(String text) {
        List<Map.Entry<String, String>> pairs = new ArrayList<>();
        int i = 0;
        int n = text.length();
        while (i < n) {
            StringBuilder key = new StringBuilder();
            while (i < n && text.charAt(i) != '=' && text.charAt(i) != ',') key.append(text.charAt(i++));
            String value;
            if (i < n && text.charAt(i) == '=') {
                i++;
                StringBuilder v = new StringBuilder();
                while (i < n) {
                    char c = text.charAt(i);
                    if (c == ',') {
                        if (i + 1 < n && text.charAt(i + 1) == ',') { v.append(','); i += 2; continue; }
                        break;
                    }
                    v.append(c);
                    i++;
                }
                value = v.toString();
            } else {
                value = "on";
            }
            if (i < n) i++;   // the separating comma
            pairs.add(Map.entry(key.toString(), value));
        }
        return pairs;
    }

    /** Sets one option by name (as {@code -o name=value} would). */
    public OptionList set(String name, String value) {
        Def def = def(name);
        if (def == null) throw new IllegalArgumentException("Invalid parameter '" + name + "'");
        check(def, value);
        raw.put(name, value);
        return this;
    }

    public boolean has(String name) { return raw.containsKey(name); }

    /** The value as typed, or null. */
    public String get(String name) { return raw.get(name); }

    /** The value given for {@code name}, else {@code fallback}. */
    String getOrDefault2(String name, String fallback) { return raw.getOrDefault(name, fallback); }

    /** The value, or the option's default (null when it has none). */
    String getOrDefault(String name) {
        String v = raw.get(name);
        return v != null ? v : def(name).defaultValue();
    }

    boolean bool(String name) {
        String v = getOrDefault(name);
        return v != null && parseBool(name, v);
    }

    /** qemu_opts_print: every option that is set or has a default, sizes and numbers as parsed. */
    public String formatted() {
        StringBuilder sb = new StringBuilder();
        for (Def d : DEFS) {
            String given = raw.get(d.name());
            String value = given != null ? given : d.defaultValue();
            if (value == null) continue;
            if (sb.length() > 0) sb.append(' ');
            sb.append(d.name()).append('=');
            if (given != null && d.type() == Type.SIZE) sb.append(Long.toUnsignedString(SizeParser.parseOption(d.name(), given)));
            else if (given != null && d.type() == Type.NUMBER) sb.append(Long.toUnsignedString(parseNumber(d.name(), given)));
            else if (d.type() == Type.STRING) sb.append(value.replace(",", ",,"));
            else sb.append(value);
        }
        return sb.toString();
    }

    static Def def(String name) {
        for (Def d : DEFS) if (d.name().equals(name)) return d;
        return null;
    }

    private static void check(Def def, String value) {
        switch (def.type()) {
            case BOOL -> parseBool(def.name(), value);
            case SIZE -> SizeParser.parseOption(def.name(), value);
            case NUMBER -> parseNumber(def.name(), value);
            default -> { }
        }
    }

    /** qapi_bool_parse. */
    public static boolean parseBool(String name, String value) {
        switch (value) {
            case "on", "yes", "true", "y": return true;
            case "off", "no", "false", "n": return false;
            default: throw new IllegalArgumentException("Parameter '" + name + "' expects 'on' or 'off'");
        }
    }

    /** qemu_strtou64 (decimal, 0x hex or 0 octal). */
    public static long parseNumber(String name, String value) {
        try {
            String v = value.trim();
            if (v.startsWith("0x") || v.startsWith("0X")) return Long.parseUnsignedLong(v.substring(2), 16);
            if (v.length() > 1 && v.startsWith("0")) return Long.parseUnsignedLong(v.substring(1), 8);
            return Long.parseUnsignedLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Parameter '" + name + "' expects a number");
        }
    }
}
