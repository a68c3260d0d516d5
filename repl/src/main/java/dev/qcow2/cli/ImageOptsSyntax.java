package dev.qcow2.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.PrintWriter;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The two ways qemu-img takes block options instead of a file name, flattened to dotted keys
 * ({@code file.filename}, {@code encrypt.key-secret}, {@code backing.encrypt.key-secret}):
 * <ul>
 *   <li>{@code --image-opts} operands in QemuOpts syntax (util/qemu-option.c opts_do_parse):
 *       {@code key=value} separated by commas, {@code ,,} for a comma in a value; a bare
 *       {@code key} is the deprecated short form of {@code key=on} ({@code nokey}: {@code key=off});
 *       the last of repeated keys wins;</li>
 *   <li>{@code json:{…}} file names (block.c parse_json_filename): nested objects flattened
 *       with dots (qdict_flatten), so {@code {"encrypt":{"key-secret":"s"}}} and
 *       {@code {"encrypt.key-secret":"s"}} are the same.</li>
 * </ul>
 */
final class ImageOptsSyntax {
    private ImageOptsSyntax() { }

    static final String JSON_PREFIX = "json:";

    /** The options of an {@code --image-opts} operand; deprecation warnings go to {@code err} as qemu-img prints them. */
    static Map<String, String> parse(String text, PrintWriter err) {
        Map<String, String> opts = new LinkedHashMap<>();
        int p = 0;
        while (p < text.length()) {
            int nameEnd = p;
            while (nameEnd < text.length() && text.charAt(nameEnd) != '=' && text.charAt(nameEnd) != ',') nameEnd++;
            String name = text.substring(p, nameEnd);
            if (nameEnd >= text.length() || text.charAt(nameEnd) == ',') {
                // short-form boolean
                p = nameEnd < text.length() ? nameEnd + 1 : nameEnd;
                if (name.isEmpty()) continue;
                String key = name.startsWith("no") ? name.substring(2) : name;
                String value = name.startsWith("no") ? "off" : "on";
                err.println("qcow2: warning: short-form boolean option '" + name + "' deprecated");
                err.println("Please use " + key + "=" + value + " instead");
                err.flush();
                opts.remove(key);
                opts.put(key, value);
                continue;
            }
            StringBuilder value = new StringBuilder();
            p = nameEnd + 1;
            while (p < text.length()) {
                char c = text.charAt(p);
                if (c == ',') {
                    if (p + 1 < text.length() && text.charAt(p + 1) == ',') {
                        value.append(',');
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                value.append(c);
                p++;
            }
            opts.remove(name);
            opts.put(name, value.toString());
        }
        return opts;
    }

    /** The options of a {@code json:{…}} file name, flattened; null when {@code name} is no such name. */
    static Map<String, String> json(String name) {
        if (!name.startsWith(JSON_PREFIX)) return null;
        JsonNode node;
        try {
            node = QemuJson.mapper().readTree(name.substring(JSON_PREFIX.length()));
        } catch (JsonProcessingException e) {
            // not Jackson's message: it would quote the text
            throw new Errors.CliException("Could not open '" + name + "': Could not parse the JSON options");
        }
        if (node == null || !node.isObject()) {
            throw new Errors.CliException("Could not open '" + name + "': Invalid JSON object given");
        }
        Map<String, String> flat = new LinkedHashMap<>();
        flatten(node, "", flat, name);
        return flat;
    }

    private static void flatten(JsonNode node, String prefix, Map<String, String> out, String name) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = prefix + e.getKey();
            JsonNode v = e.getValue();
            if (v.isObject()) flatten(v, key + ".", out, name);
            else if (v.isTextual()) out.put(key, v.textValue());
            else if (v.isNumber() || v.isBoolean()) out.put(key, v.asText());
            else throw new Errors.CliException("Could not open '" + name + "': Invalid value for option '" + key + "'");
        }
    }
}
