package dev.qcow2.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.qcow2.crypto.Secret;
import dev.qcow2.crypto.SecretObjects;

import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * qemu-img 7.2's {@code --object} (qom/object_interfaces.c user_creatable_process_cmdline, then
 * crypto/secret.c for {@code qom-type=secret}): each definition, in command-line order, becomes a
 * {@link Secret} by id. Same syntax ({@code secret,id=ID,data=…|file=…[,format=raw|base64]
 * [,keyid=ID2,iv=BASE64]} or the JSON form {@code {"qom-type":"secret",…}}), same checks in the
 * same order, same messages. {@code keyid}/{@code iv}: the data is AES-256-CBC ciphertext under the
 * (32-byte) secret {@code keyid} defined earlier, as QEMU decrypts it (qcrypto_secret_decrypt).
 * Other QEMU object types are refused: this tool uses none of them.
 *
 * <p>Invariant: no message, exception or {@code toString} contains a secret's data, its file's
 * content, or an element of a definition that may be part of the data (a comma in {@code data=}
 * written singly splits the secret into "parameters").
 */
final class SecretObjectParser {
    private SecretObjectParser() { }

    /** qemu-img 7.2's user-creatable types ({@code --object help}); only {@code secret} is supported here. */
    static final List<String> QEMU_TYPES = List.of("authz-list", "authz-list-file", "authz-simple", "main-loop",
            "pr-manager-helper", "secret", "secret_keyring", "thread-context", "throttle-group", "tls-cipher-suites",
            "tls-creds-anon", "tls-creds-psk", "tls-creds-x509");

    /** The members of a secret (SecretCommonProperties, then SecretProperties), in QAPI visiting order. */
    private static final List<String> SECRET_MEMBERS = List.of("loaded", "format", "keyid", "iv", "data", "file");

    /** What {@code --object help} / {@code --object secret,help} prints (qemu's layout, this tool's one type). */
    static final String TYPES_HELP = "List of user creatable objects:\n  secret\n";
    static final String SECRET_HELP = "secret options:\n  data=<string>\n  file=<string>\n  format=<QCryptoSecretFormat>\n"
            + "  iv=<string>\n  keyid=<string>\n";

    /** Asked for help instead of an object: the text to print (qemu-img prints it and exits 0). */
    static final class HelpRequested extends RuntimeException {
        final String text;

        HelpRequested(String text) {
            super("help", null, false, false);
            this.text = text;
        }
    }

    /** The help for a definition asking for it: the secret's options, else the list of types. */
    static String helpText(Map<String, Object> tree) {
        return "secret".equals(tree.get("qom-type")) ? SECRET_HELP : TYPES_HELP;
    }

    /** The secrets of {@code definitions}, in order (a definition may name earlier ones by keyid). */
    static SecretObjects parse(List<String> definitions) {
        Map<String, Secret> byId = new LinkedHashMap<>();
        try {
            for (String d : definitions) add(byId, d);
        } catch (RuntimeException e) {
            byId.values().forEach(Secret::close);
            throw e;
        }
        return new SecretObjects(byId);
    }

    private static void add(Map<String, Secret> byId, String definition) {
        Map<String, Object> tree = definition.startsWith("{") ? json(definition) : keyval(definition);
        Object type = tree.get("qom-type");
        if (type == null) throw new Errors.CliException("Parameter 'qom-type' is missing");
        String qomType = string(tree, "qom-type");
        if (!QEMU_TYPES.contains(qomType)) throw new Errors.CliException("Parameter 'qom-type' does not accept value '" + qomType + "'");
        if (!tree.containsKey("id")) throw new Errors.CliException("Parameter 'id' is missing");
        String id = string(tree, "id");
        if (!qomType.equals("secret")) {
            throw new Errors.CliException("Object type '" + qomType + "' is not supported by qcow2 (only 'secret' objects are)");
        }
        for (String m : SECRET_MEMBERS) if (!m.equals("loaded") && tree.containsKey(m)) string(tree, m);
        String format = tree.containsKey("format") ? string(tree, "format") : "raw";
        if (!format.equals("raw") && !format.equals("base64")) {
            throw new Errors.CliException("Parameter 'format' does not accept value '" + format + "'");
        }
        for (String k : tree.keySet()) {
            if (!k.equals("qom-type") && !k.equals("id") && !SECRET_MEMBERS.contains(k)) {
                throw new Errors.CliException("Parameter '" + k + "' is unexpected");
            }
        }
        // user_creatable_add_type: the id, the properties, the container, then complete()
        if (!isIdentifier(id)) {
            throw new Errors.CliException("Parameter 'id' expects an identifier; identifiers consist of letters, digits, '-', '.', '_', starting with a letter.");
        }
        if (tree.containsKey("loaded")) throw new Errors.CliException("Property 'secret.loaded' is not writable");
        if (byId.containsKey(id)) throw new Errors.CliException("attempt to add duplicate property '" + id + "' to object (type 'container')");
        byte[] input = load((String) tree.get("data"), (String) tree.get("file"));
        byte[] value;
        try {
            if (tree.containsKey("keyid")) {
                value = decrypt(byId, id, (String) tree.get("keyid"), (String) tree.get("iv"), format, input);
            } else {
                value = format.equals("base64") ? QemuBase64.decode(input) : input.clone();
            }
        } finally {
            Arrays.fill(input, (byte) 0);
        }
        byId.put(id, Secret.ofBytes(value));
    }

    /** crypto/secret.c qcrypto_secret_load_data. */
    private static byte[] load(String data, String file) {
        if (file != null) {
            if (data != null) throw new Errors.CliException("'file' and 'data' are mutually exclusive");
            try {
                return Files.readAllBytes(Path.of(file));
            } catch (NoSuchFileException e) {
                throw unableToRead(file, "Failed to open file \u201c" + file + "\u201d: No such file or directory");
            } catch (AccessDeniedException e) {
                throw unableToRead(file, "Failed to open file \u201c" + file + "\u201d: Permission denied");
            } catch (IOException e) {
                String reason = Files.isDirectory(Path.of(file)) ? "Is a directory" : "Input/output error";
                throw unableToRead(file, "Error reading file \u201c" + file + "\u201d: " + reason);
            } catch (java.nio.file.InvalidPathException e) {
                throw unableToRead(file, "Failed to open file \u201c" + file + "\u201d: No such file or directory");
            }
        }
        if (data != null) return data.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        throw new Errors.CliException("Either 'file' or 'data' must be provided");
    }

    private static Errors.CliException unableToRead(String file, String glibMessage) {
        return new Errors.CliException("Unable to read " + file + ": " + glibMessage);
    }

    /** crypto/secret_common.c qcrypto_secret_decrypt: AES-256-CBC under secret {@code keyid}, QEMU's padding check. */
    private static byte[] decrypt(Map<String, Secret> byId, String self, String keyid, String ivText, String format, byte[] input) {
        if (keyid.equals(self)) throw new Errors.CliException("Secret with id '" + keyid + "' has no data");
        Secret keySecret = byId.get(keyid);
        if (keySecret == null) throw new Errors.CliException("No secret with id '" + keyid + "'");
        byte[] key = keySecret.bytes();
        byte[] ciphertext = null;
        byte[] plain = null;
        try {
            if (key.length != 32) throw new Errors.CliException("Key should be 32 bytes in length");
            if (ivText == null) throw new Errors.CliException("IV is required to decrypt secret");
            byte[] iv = QemuBase64.decode(ivText.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            if (iv.length != 16) throw new Errors.CliException("IV should be 16 bytes in length not " + iv.length);
            ciphertext = format.equals("base64") ? QemuBase64.decode(input) : input.clone();
            if (ciphertext.length % 16 != 0) {
                throw new Errors.CliException("Length " + ciphertext.length + " must be a multiple of block size 16");
            }
            if (ciphertext.length == 0) return new byte[0];
            Cipher aes = Cipher.getInstance("AES/CBC/NoPadding");
            aes.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(iv));
            plain = aes.doFinal(ciphertext);
            int pad = plain[plain.length - 1] & 0xff;
            if (pad > 16 || pad > plain.length) {
                throw new Errors.CliException("Incorrect number of padding bytes (" + pad + ") found on decrypted data");
            }
            return Arrays.copyOf(plain, plain.length - pad);
        } catch (GeneralSecurityException e) {
            throw new Errors.CliException("Cannot decrypt secret '" + self + "': AES-256-CBC is not available");
        } finally {
            Arrays.fill(key, (byte) 0);
            if (ciphertext != null) Arrays.fill(ciphertext, (byte) 0);
            if (plain != null) Arrays.fill(plain, (byte) 0);
        }
    }

    /** qom/object.c: an id is a letter, then letters, digits, '-', '.', '_' (id_wellformed). */
    static boolean isIdentifier(String id) {
        if (id.isEmpty() || !Character.isLetter(id.charAt(0)) || id.charAt(0) > 127) return false;
        for (int i = 1; i < id.length(); i++) {
            char c = id.charAt(i);
            boolean ok = c < 128 && (Character.isLetterOrDigit(c) || c == '-' || c == '.' || c == '_');
            if (!ok) return false;
        }
        return true;
    }

    private static Map<String, Object> keyval(String definition) {
        KeyValSyntax.Parsed parsed;
        try {
            parsed = KeyValSyntax.parse(definition, "qom-type");
        } catch (Errors.CliException e) {
            // keyval's messages quote the offending element: after data= that may be part of the secret
            if (definition.contains("data=") && (e.getMessage().startsWith("Expected '='") || e.getMessage().startsWith("Invalid parameter"))) {
                throw new Errors.CliException("Invalid --object definition (a comma inside a value must be written ,,)");
            }
            throw e;
        }
        if (parsed.help()) throw new HelpRequested(helpText(parsed.tree()));
        return parsed.tree();
    }

    private static Map<String, Object> json(String definition) {
        JsonNode node;
        try {
            node = QemuJson.mapper().readTree(definition);
        } catch (JsonProcessingException e) {
            // never Jackson's own message: it quotes the offending token, which may be the secret
            String why = e instanceof com.fasterxml.jackson.core.io.JsonEOFException ? "premature EOI" : "invalid syntax";
            throw new Errors.CliException("JSON parse error, " + why);
        }
        if (node == null || !node.isObject()) throw new Errors.CliException("--object: JSON must be an object");
        Map<String, Object> tree = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            tree.put(e.getKey(), e.getValue().isTextual() ? e.getValue().textValue() : e.getValue());
        }
        return tree;
    }

    /** A member that must be a string (the keyval and JSON visitors' messages). */
    private static String string(Map<String, Object> tree, String key) {
        Object v = tree.get(key);
        if (v instanceof String s) return s;
        if (v instanceof Map) throw new Errors.CliException("Parameters '" + key + ".*' are unexpected");
        throw new Errors.CliException("Invalid parameter type for '" + key + "', expected: string");
    }
}
