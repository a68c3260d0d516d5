package dev.qcow2.image;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.UnsupportedFeatureException;
import dev.qcow2.crypto.DataCipher;
import dev.qcow2.crypto.ImageEncryption;
import dev.qcow2.crypto.Secret;
import dev.qcow2.crypto.SecretLookup;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.util.Optional;

/**
 * The encryption state of one opened layer: plain, encrypted without a key (metadata can be
 * read, guest data cannot — QEMU refuses to open it at all, except for {@code info}), or
 * encrypted and unlocked. Every guest-data path switches over this type, so the compiler
 * shows each place that must decrypt or encrypt.
 */
public sealed interface Encryption extends AutoCloseable {

    /** Not encrypted (crypt_method 0). */
    record None() implements Encryption { }

    /**
     * Encrypted, no key given: data reads and writes fail with {@code reason} (qemu-img's open
     * error: "Parameter 'encrypt.key-secret' is required for cipher", or "No secret with id 'x'"
     * when a {@code json:} backing name names a secret that was not given).
     */
    record Locked(String format, String reason) implements Encryption {
        public Qcow2Exception refusal(String resource) { return new UnsupportedFeatureException(resource, reason); }
    }

    /** Encrypted and unlocked: guest data goes through {@code cipher}. */
    record Unlocked(String format, DataCipher cipher) implements Encryption {
        /** The offset the cipher's IV counts sectors from: host for LUKS (s->crypt_physical_offset), guest for legacy AES. */
        public long ivOffset(long hostOffset, long guestOffset) {
            return cipher.ivFromHostOffset() ? hostOffset : guestOffset;
        }

        public void decrypt(long hostOffset, long guestOffset, byte[] buf, int off, int len) {
            cipher.decrypt(ivOffset(hostOffset, guestOffset), buf, off, len);
        }

        public void encrypt(long hostOffset, long guestOffset, byte[] buf, int off, int len) {
            cipher.encrypt(ivOffset(hostOffset, guestOffset), buf, off, len);
        }
    }

    /** QEMU's request alignment of encrypted images (qcrypto_block_get_sector_size): whole 512-byte sectors. */
    int SECTOR = 512;

    /** QEMU's message when an encrypted image is opened without a key (qcrypto_block_open of qcow2/LUKS). */
    String KEY_REQUIRED = "Parameter 'encrypt.key-secret' is required for cipher";

    /** The encryption format's name as qemu-img prints it ("aes", "luks"), or null for a plain image. */
    default String format() {
        return switch (this) {
            case None n -> null;
            case Locked l -> l.format();
            case Unlocked u -> u.format();
        };
    }

    default boolean encrypted() { return !(this instanceof None); }

    @Override default void close() {
        if (this instanceof Unlocked u) u.cipher().close();
    }

    /** The format name of {@code header}'s crypt_method, or null when it is 0. */
    static String formatOf(Qcow2Header header) {
        return switch (header.cryptMethod()) {
            case Qcow2Header.CRYPT_AES -> "aes";
            case Qcow2Header.CRYPT_LUKS -> "luks";
            default -> null;
        };
    }

    /**
     * The state of the layer described by {@code layer}: its secret is asked of {@code secrets};
     * with one, the layer is unlocked now (a wrong passphrase fails here, before anything is
     * read or written: "Invalid password, cannot unlock any keyslot").
     */
    static Encryption open(String resource, Storage storage, Qcow2Header header, SecretLookup secrets,
                           SecretLookup.Layer layer) throws IOException {
        String format = formatOf(header);
        if (format == null) return new None();
        Optional<Secret> secret = secrets.secretFor(layer);
        if (secret.isEmpty()) {
            String reason = LayerSecrets.keySecretId(secrets, layer).map(id -> "No secret with id '" + id + "'").orElse(KEY_REQUIRED);
            return new Locked(format, reason);
        }
        return new Unlocked(format, ImageEncryption.unlock(resource, storage, header, secret.get()));
    }
}
