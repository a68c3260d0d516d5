package dev.qcow2.image;

import dev.qcow2.Qcow2Exception;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A backing file name as QEMU's bdrv_open reads it: a plain file name, or {@code json:{…}} with
 * the options of the backing node (qemu-img rebase/create -b 'json:{"driver":"qcow2",
 * "file.filename":"base.qcow2","encrypt.key-secret":"sec1"}'). Nested objects are flattened to
 * dotted keys as QEMU's qdict_flatten does, so {@code {"file":{"filename":…}}} and
 * {@code {"file.filename":…}} are the same. A file name inside {@code json:} is used as it is
 * (QEMU's bdrv_make_absolute_filename leaves names with a protocol prefix alone, so a relative
 * one is relative to the working directory, not to the overlay).
 *
 * @param fileName     the file to open
 * @param driver       the format named by the json options ({@code driver}), or empty
 * @param keySecretId  {@code encrypt.key-secret}, or empty
 * @param encryptFormat {@code encrypt.format}, or empty: the layer's header must report it
 * @param noBacking    {@code "backing":null}: the layer's own backing file is not opened
 * @param json         whether the name was a {@code json:} name
 */
public record BackingName(String fileName, Optional<String> driver, Optional<String> keySecretId,
                          Optional<String> encryptFormat, boolean noBacking, boolean json) {

    private static final String PREFIX = "json:";

    /** Whether {@code name} is a {@code json:} name (QEMU's path_has_protocol for "json"). */
    public static boolean isJson(String name) { return name.startsWith(PREFIX); }

    /** Parses {@code name} as recorded in an image; a plain name is returned as a plain file name. */
    public static BackingName parse(String resource, String name) throws Qcow2Exception {
        if (!name.startsWith(PREFIX)) return new BackingName(name, Optional.empty(), Optional.empty(), Optional.empty(), false, false);
        Map<String, Object> options = new LinkedHashMap<>();
        try {
            Parser p = new Parser(name, PREFIX.length());
            p.object("", options);
            p.skipSpace();
            if (p.at < name.length()) throw p.error("trailing characters");
        } catch (IllegalArgumentException e) {
            throw new Qcow2Exception(resource, "Could not parse the JSON options of backing file '" + name + "': " + e.getMessage());
        }
        String file = null;
        String driver = null;
        String keySecret = null;
        String encryptFormat = null;
        boolean noBacking = false;
        for (Map.Entry<String, Object> e : options.entrySet()) {
            String key = e.getKey();
            Object value = e.getValue();
            switch (key) {
                case "driver" -> driver = string(resource, name, key, value);
                case "file", "file.filename" -> file = string(resource, name, key, value);
                case "file.driver" -> {
                    if (!"file".equals(value)) throw unsupported(resource, name, key + "=" + value);
                }
                case "encrypt.key-secret" -> keySecret = string(resource, name, key, value);
                case "encrypt.format" -> encryptFormat = string(resource, name, key, value);
                case "backing" -> {
                    if (value != null) throw unsupported(resource, name, "backing (other than null)");
                    noBacking = true;
                }
                default -> throw unsupported(resource, name, key);
            }
        }
        if (file == null) {
            throw new Qcow2Exception(resource, "backing file '" + name + "' names no file (file.filename)");
        }
        if (driver != null && !driver.equals("qcow2") && !driver.equals("raw")) {
            throw new Qcow2Exception(resource, "Could not open backing file: Unknown driver '" + driver + "'");
        }
        return new BackingName(file, Optional.ofNullable(driver), Optional.ofNullable(keySecret), Optional.ofNullable(encryptFormat),
                noBacking, true);
    }

    /**
     * QEMU's check of {@code encrypt.format} against the opened layer's header: "Header reported
     * 'luks' encryption format but options specify 'aes'".
     */
    public void requireEncryptFormat(String resource, BlockDevice opened) throws Qcow2Exception {
        if (encryptFormat.isEmpty() || !(opened instanceof Qcow2Image q)) return;
        String header = q.encryptionFormat();
        if (!encryptFormat.get().equals(header)) {
            throw new Qcow2Exception(resource, "Header reported '" + (header == null ? "none" : header)
                    + "' encryption format but options specify '" + encryptFormat.get() + "'");
        }
    }

    private static String string(String resource, String name, String key, Object value) throws Qcow2Exception {
        if (value instanceof String s) return s;
        throw new Qcow2Exception(resource, "backing file '" + name + "': option '" + key + "' must be a string");
    }

    private static Qcow2Exception unsupported(String resource, String name, String what) {
        return new Qcow2Exception(resource, "backing file '" + name + "': option '" + what + "' is not supported");
    }

    /** A small JSON reader: objects (flattened into dotted keys), strings, numbers, true/false/null; no arrays. */
    private static final class Parser {
        private final String s;
        private int at;

        Parser(String s, int at) {
            this.s = s;
            this.at = at;
        }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException(what + " at character " + at);
        }

        void skipSpace() {
            while (at < s.length() && Character.isWhitespace(s.charAt(at))) at++;
        }

        void expect(char c) {
            skipSpace();
            if (at >= s.length() || s.charAt(at) != c) throw error("expected '" + c + "'");
            at++;
        }

        void object(String prefix, Map<String, Object> out) {
            expect('{');
            skipSpace();
            if (at < s.length() && s.charAt(at) == '}') {
                at++;
                return;
            }
            while (true) {
                skipSpace();
                String key = prefix + string();
                expect(':');
                skipSpace();
                if (at < s.length() && s.charAt(at) == '{') {
                    object(key + ".", out);
                } else {
                    if (out.containsKey(key)) throw error("duplicate option '" + key + "'");
                    out.put(key, value());
                }
                skipSpace();
                if (at < s.length() && s.charAt(at) == ',') {
                    at++;
                    continue;
                }
                expect('}');
                return;
            }
        }

        Object value() {
            if (at >= s.length()) throw error("value expected");
            char c = s.charAt(at);
            if (c == '"') return string();
            if (s.startsWith("null", at)) { at += 4; return null; }
            if (s.startsWith("true", at)) { at += 4; return Boolean.TRUE; }
            if (s.startsWith("false", at)) { at += 5; return Boolean.FALSE; }
            int start = at;
            while (at < s.length() && "+-0123456789.eE".indexOf(s.charAt(at)) >= 0) at++;
            if (start == at) throw error("unexpected '" + c + "'");
            return s.substring(start, at);
        }

        String string() {
            if (at >= s.length() || s.charAt(at) != '"') throw error("string expected");
            at++;
            StringBuilder b = new StringBuilder();
            while (true) {
                if (at >= s.length()) throw error("unterminated string");
                char c = s.charAt(at++);
                if (c == '"') return b.toString();
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                if (at >= s.length()) throw error("unterminated escape");
                char e = s.charAt(at++);
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        if (at + 4 > s.length()) throw error("bad \\u escape");
                        try {
                            b.append((char) Integer.parseInt(s.substring(at, at + 4), 16));
                        } catch (NumberFormatException x) {
                            throw error("bad \\u escape");
                        }
                        at += 4;
                    }
                    default -> throw error("bad escape '\\" + e + "'");
                }
            }
        }
    }
}
