package dev.qcow2.cli;

import dev.qcow2.crypto.Secret;
import dev.qcow2.crypto.SecretLookup;
import dev.qcow2.crypto.SecretObjects;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * An image operand as qemu-img takes it: a file name (with {@code -f}), {@code --image-opts}
 * options ({@code driver=qcow2,file.filename=x.qcow2,encrypt.key-secret=sec0}) or a
 * {@code json:{…}} name. Resolved to the file, its format (null: probe) and which secret object
 * unlocks each layer of its chain ({@code encrypt.key-secret} for the image,
 * {@code backing.encrypt.key-secret} for its backing file, and so on down).
 *
 * @param operand     the operand as given: what qemu-img's messages quote ({@code Could not open 'X': …})
 * @param file        the image file
 * @param format      qcow2, raw, or null to probe
 * @param secretIds   depth → the id of the secret object that unlocks that layer
 * @param encryptFormat the {@code encrypt.format} the options require of the image, if any
 * @param secrets     the secret objects of the command line
 */
record ImageArg(String operand, String file, String format, Map<Integer, String> secretIds,
                Optional<String> encryptFormat, SecretObjects secrets) {

    ImageArg {
        secretIds = Map.copyOf(secretIds);
    }

    /** A plain file name (or a {@code json:} name) with {@code -f}. */
    static ImageArg of(String operand, String format, SecretObjects secrets) {
        Map<String, String> json = ImageOptsSyntax.json(operand);
        if (json != null) return fromOptions(operand, json, format, secrets);
        return new ImageArg(operand, operand, format, Map.of(), Optional.empty(), secrets);
    }

    /** The operand of a command given {@code --image-opts} ({@code format} must then be null). */
    static ImageArg ofImageOpts(String operand, String format, SecretObjects secrets, PrintWriter err) {
        if (format != null) throw new Errors.CliException("--image-opts and --format are mutually exclusive");
        return fromOptions(operand, ImageOptsSyntax.parse(operand, err), null, secrets);
    }

    /** The image's path. */
    Path path() { return Path.of(file); }

    /** Whether the command line gave any secret for this image's chain. */
    boolean hasSecrets() { return !secretIds.isEmpty(); }

    /**
     * The lookup handed to every open of this image: as in qemu-img, the id the options give for
     * a layer's depth ({@code [backing.]*encrypt.key-secret}) wins over the layer's own
     * {@code encrypt.key-secret} from a {@code json:} backing name; an id
     * that names no {@code --object} is qemu's "No secret with id 'x'" (the open fails).
     */
    SecretLookup lookup() {
        Map<Integer, String> ids = secretIds;
        SecretObjects objects = secrets;
        String top = operand;
        return layer -> {
            Optional<String> id = Optional.ofNullable(ids.get(layer.depth())).or(layer::keySecretId);
            if (id.isEmpty()) return Optional.empty();
            Optional<Secret> secret = objects.byId(id.get());
            if (secret.isEmpty()) {
                String what = layer.depth() == 0 ? "Could not open '" + top + "': "
                        : "Could not open '" + top + "': Could not open backing file: ";
                throw new Errors.CliException(what + "No secret with id '" + id.get() + "'");
            }
            return secret;
        };
    }

    /**
     * The name qemu-img shows for the image (bdrv_refresh_filename): the file name, or a
     * {@code json:} name when an option it cannot drop ({@code encrypt.key-secret}, qcow2's
     * strong runtime option) was given.
     */
    String displayName() {
        String id = secretIds.get(0);
        if (id == null) return file;
        Map<String, Object> fileNode = new LinkedHashMap<>();
        fileNode.put("driver", "file");
        fileNode.put("filename", file);
        Map<String, Object> node = new LinkedHashMap<>();
        node.put("encrypt.key-secret", id);
        node.put("driver", format == null ? "qcow2" : format);
        node.put("file", fileNode);
        StringBuilder sb = new StringBuilder("json:");
        compact(sb, node);
        return sb.toString();
    }

    /** qobject_to_json (not pretty): {@code {"k": "v", "n": {…}}} in QDict order. */
    @SuppressWarnings("unchecked")
    private static void compact(StringBuilder sb, Map<String, Object> node) {
        sb.append('{');
        boolean first = true;
        for (String k : QemuJson.qdictOrder(node)) {
            if (!first) sb.append(", ");
            first = false;
            QemuJson.quoted(sb, k);
            sb.append(": ");
            Object v = node.get(k);
            if (v instanceof Map<?, ?> m) compact(sb, (Map<String, Object>) m);
            else QemuJson.quoted(sb, (String) v);
        }
        sb.append('}');
    }

    /** Options of qcow2 and of the block layer that change nothing for this tool's opens (accepted, ignored). */
    private static final Set<String> NO_EFFECT = Set.of("node-name", "read-only", "auto-read-only", "force-share",
            "discard", "detect-zeroes", "cache.direct", "cache.no-flush", "lazy-refcounts", "pass-discard-request",
            "pass-discard-snapshot", "pass-discard-other", "overlap-check", "cache-size", "l2-cache-size",
            "l2-cache-entry-size", "refcount-cache-size", "cache-clean-interval");

    /** Options of the file protocol that change nothing here. */
    private static final Set<String> FILE_NO_EFFECT = Set.of("locking", "aio", "aio-max-batch", "node-name",
            "read-only", "auto-read-only", "force-share", "cache.direct", "cache.no-flush", "discard", "detect-zeroes",
            "pr-manager", "x-check-cache-dropped", "drop-cache");

    /** qemu-img 7.2's format drivers (bdrv_find_format): named but not readable here. */
    private static final List<String> QEMU_FORMATS = List.of("blkdebug", "blklogwrites", "blkverify", "bochs", "cloop",
            "compress", "copy-before-write", "copy-on-read", "dmg", "parallels", "preallocate", "qcow", "qed",
            "quorum", "snapshot-access", "throttle", "vdi", "vhdx", "vmdk", "vpc", "vvfat", "luks");

    private static ImageArg fromOptions(String operand, Map<String, String> opts, String format, SecretObjects secrets) {
        String where = "Could not open '" + operand + "': ";
        String driver = opts.get("driver");
        if (driver == null && !opts.containsKey("file") && opts.keySet().stream().noneMatch(k -> k.startsWith("file."))) {
            throw new Errors.CliException(where + "Must specify either driver or file");
        }
        String file;
        String fmt;
        if ("file".equals(driver)) {
            // the protocol node itself: the file's bytes, as raw
            file = opts.get("filename");
            if (file == null) throw new Errors.CliException(where + "The 'file' block driver requires a file name");
            fmt = "raw";
            for (String k : opts.keySet()) {
                if (!k.equals("driver") && !k.equals("filename") && !FILE_NO_EFFECT.contains(k)) {
                    throw new Errors.CliException(where + "Block protocol 'file' doesn't support the option '" + k + "'");
                }
            }
            return new ImageArg(operand, file, fmt, Map.of(), Optional.empty(), secrets);
        }
        if (driver != null && !driver.equals("qcow2") && !driver.equals("raw")) {
            if (QEMU_FORMATS.contains(driver)) {
                throw new Errors.CliException(where + "Unknown driver '" + driver + "' (this tool reads qcow2 and raw)");
            }
            throw new Errors.CliException(where + "Unknown driver '" + driver + "'");
        }
        fmt = driver != null ? driver : format;
        if (opts.containsKey("file")) {
            // a string "file" names another block node: qemu-img has none
            String ref = opts.get("file");
            throw new Errors.CliException(where + "Cannot find device='" + ref + "' nor node-name='" + ref + "'");
        }
        String fileDriver = opts.get("file.driver");
        if (fileDriver != null && !fileDriver.equals("file")) {
            throw new Errors.CliException(where + "Unsupported protocol driver '" + fileDriver + "' (this tool opens local files: file.driver=file)");
        }
        file = opts.get("file.filename");
        if (file == null) throw new Errors.CliException(where + "A block device must be specified for \"file\"");
        String fmtName = fmt == null ? "qcow2" : fmt;
        Map<Integer, String> ids = new TreeMap<>();
        Optional<String> encryptFormat = Optional.empty();
        for (Map.Entry<String, String> e : opts.entrySet()) {
            String k = e.getKey();
            if (k.equals("driver") || k.equals("file.driver") || k.equals("file.filename")) continue;
            if (k.startsWith("file.")) {
                String sub = k.substring(5);
                if (FILE_NO_EFFECT.contains(sub)) continue;
                throw new Errors.CliException(where + "Block protocol 'file' doesn't support the option '" + sub + "'");
            }
            int depth = 0;
            String rest = k;
            while (rest.startsWith("backing.")) {
                depth++;
                rest = rest.substring("backing.".length());
            }
            if (rest.equals("encrypt.key-secret") && !"raw".equals(fmt)) {
                ids.put(depth, e.getValue());
                continue;
            }
            if (rest.equals("encrypt.format") && depth == 0 && !"raw".equals(fmt)) {
                encryptFormat = Optional.of(e.getValue());
                continue;
            }
            if (depth == 0 && NO_EFFECT.contains(rest)) continue;
            if (depth == 0 && rest.startsWith("encrypt.") && !"raw".equals(fmt)) {
                throw new Errors.CliException(where + "Parameter '" + rest.substring("encrypt.".length()) + "' is unexpected");
            }
            if (depth > 0 && NO_EFFECT.contains(rest)) continue;
            if (depth > 0) {
                throw new Errors.CliException(where + "the option '" + k + "' is not supported by qcow2"
                        + " (of a backing file's options only [backing.]encrypt.key-secret are)");
            }
            throw new Errors.CliException(where + "Block format '" + fmtName + "' does not support the option '" + k + "'");
        }
        return new ImageArg(operand, file, fmt, ids, encryptFormat, secrets);
    }
}
