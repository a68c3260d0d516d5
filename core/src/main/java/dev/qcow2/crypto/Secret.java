package dev.qcow2.crypto;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A passphrase (or raw key) given by the user for an encrypted image, as the bytes QEMU's
 * secret object holds (qemu-img --object secret,data=…|file=…: the data after format decoding,
 * never a trailing newline added by us). The bytes never appear in {@link #toString()}, in
 * exceptions or in logs; {@link #close()} overwrites them. Callers that hand a secret to the
 * library keep ownership: the library copies what it needs and zeroes its copies.
 */
public final class Secret implements AutoCloseable {
    private final byte[] bytes;
    private volatile boolean closed;

    private Secret(byte[] bytes) { this.bytes = bytes; }

    /** Takes ownership of {@code bytes} (they are zeroed on close). */
    public static Secret ofBytes(byte[] bytes) { return new Secret(bytes); }

    /** The UTF-8 bytes of {@code passphrase}, as QEMU's secret object stores data=… */
    public static Secret ofString(String passphrase) { return new Secret(passphrase.getBytes(StandardCharsets.UTF_8)); }

    /** The UTF-8 bytes of {@code passphrase}; the caller should clear its array afterwards. */
    public static Secret ofChars(char[] passphrase) {
        java.nio.ByteBuffer b = StandardCharsets.UTF_8.encode(java.nio.CharBuffer.wrap(passphrase));
        byte[] out = new byte[b.remaining()];
        b.get(out);
        Arrays.fill(b.array(), (byte) 0);
        return new Secret(out);
    }

    /** A copy of the secret's bytes; the caller zeroes it when done. */
    public byte[] bytes() {
        if (closed) throw new IllegalStateException("secret already closed");
        return bytes.clone();
    }

    public int length() { return bytes.length; }

    @Override public void close() {
        closed = true;
        Arrays.fill(bytes, (byte) 0);
    }

    @Override public String toString() { return "Secret[redacted]"; }
}
