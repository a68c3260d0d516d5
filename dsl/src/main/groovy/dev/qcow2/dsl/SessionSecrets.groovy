package dev.qcow2.dsl

import dev.qcow2.crypto.Secret
import dev.qcow2.crypto.SecretLookup
import groovy.transform.CompileStatic

import java.nio.ByteBuffer
import java.nio.channels.FileChannel
import java.nio.file.Files
import java.nio.file.NoSuchFileException
import java.nio.file.Path
import java.nio.file.StandardOpenOption

/**
 * The secrets of one open image, from {@code open}'s options:
 * <ul>
 *   <li>{@code secret: 'pw'}: the passphrase of the image itself (depth 0);</li>
 *   <li>{@code secretFile: 'pw.txt'}: the same, read from a file: its bytes as they are, like
 *       qemu-img's {@code --object secret,file=} (a trailing newline is part of the passphrase);</li>
 *   <li>{@code secrets: [0: 'pw', 1: 'pw2']}: by depth in the backing chain (0 the image, 1 its
 *       backing file, …), for a chain whose layers have different passphrases.</li>
 * </ul>
 * A layer that is encrypted but has no secret here is asked for through the front end's
 * {@link Prompt} (the REPL reads a passphrase without echo), once per depth while the image is
 * open; without a prompt the open fails as qemu-img's does. The secrets are zeroed on close.
 */
@CompileStatic
final class SessionSecrets implements Closeable {
    /** Asks the user for the passphrase of an encrypted layer; null: none given. */
    @FunctionalInterface
    static interface Prompt {
        char[] passphrase(Path layer, int depth)
    }

    static final List<String> OPTIONS = ['secret', 'secretFile', 'secrets']

    private final Map<Integer, Secret> byDepth = new TreeMap<>()
    private final Prompt prompt

    private SessionSecrets(Prompt prompt) { this.prompt = prompt }

    /** The secrets {@code options} give; never quotes a value in an error. */
    static SessionSecrets of(Map options, Prompt prompt) {
        SessionSecrets s = new SessionSecrets(prompt)
        try {
            if (options.containsKey('secret') && options.containsKey('secretFile')) {
                throw new DslException('open: give secret: or secretFile:, not both')
            }
            if (options.containsKey('secret')) s.put(0, passphrase('secret:', options.secret))
            if (options.containsKey('secretFile')) s.put(0, fromFile(options.secretFile))
            if (options.containsKey('secrets')) {
                def m = options.secrets
                if (!(m instanceof Map)) throw new DslException('open: secrets: takes a map of depth to passphrase, e.g. secrets: [0: \'pw\', 1: \'pw2\']')
                ((Map) m).each { k, v ->
                    if (!(k instanceof Integer) || (Integer) k < 0) {
                        throw new DslException('open: secrets: keys are depths in the backing chain: 0 (the image), 1 (its backing file), ...')
                    }
                    if (s.byDepth.containsKey((Integer) k)) {
                        throw new DslException("open: the secret of depth $k is given twice (secret:/secretFile: are depth 0)")
                    }
                    s.put((Integer) k, passphrase("secrets: [$k: ...]", v))
                }
            }
        } catch (RuntimeException e) {
            s.close()
            throw e
        }
        s
    }

    private void put(int depth, Secret secret) { byDepth.put(depth, secret) }

    private static Secret passphrase(String what, Object v) {
        if (v instanceof CharSequence) return Secret.ofString(v.toString())
        if (v instanceof char[]) return Secret.ofChars((char[]) v)
        if (v instanceof byte[]) return Secret.ofBytes(((byte[]) v).clone())
        throw new DslException("open: $what takes a string")   // never the value itself
    }

    private static Secret fromFile(Object name) {
        if (!(name instanceof CharSequence)) throw new DslException('open: secretFile: takes a file name')
        Path p = Path.of(name.toString())
        if (!Files.exists(p)) throw new NoSuchFileException(name.toString())
        if (Files.size(p) > 1 << 20) throw new DslException("open: secretFile: ${name} is larger than 1 MiB; it should hold a passphrase")
        Secret.ofBytes(Files.readAllBytes(p))
    }

    /** Whether any secret was given (or asked for). */
    boolean isEmpty() { byDepth.isEmpty() }

    /** The lookup handed to every open of the session's image (and its backing chain). */
    SecretLookup lookup() {
        return { SecretLookup.Layer layer -> secretFor(layer) } as SecretLookup
    }

    private synchronized Optional<Secret> secretFor(SecretLookup.Layer layer) {
        Secret s = byDepth.get(layer.depth())
        if (s != null) return Optional.of(s)
        if (prompt == null || layer.path() == null || !encrypted(layer.path())) return Optional.empty()
        char[] pw = prompt.passphrase(layer.path(), layer.depth())
        if (pw == null) return Optional.empty()
        try {
            s = Secret.ofChars(pw)
        } finally {
            Arrays.fill(pw, (char) 0)
        }
        byDepth.put(layer.depth(), s)
        Optional.of(s)
    }

    /** Whether the qcow2 header of {@code file} names an encryption method (crypt_method at byte 32). */
    static boolean encrypted(Path file) {
        try {
            FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)
            try {
                ByteBuffer b = ByteBuffer.allocate(36)
                while (b.hasRemaining() && ch.read(b, b.position()) > 0) { }
                return b.position() == 36 && b.getInt(0) == 0x514649fb && b.getInt(32) != 0
            } finally {
                ch.close()
            }
        } catch (IOException e) {
            return false
        }
    }

    @Override
    synchronized void close() {
        byDepth.values().each { Secret s -> s.close() }
        byDepth.clear()
    }

    @Override String toString() { "SessionSecrets${byDepth.keySet()}" }
}
