package dev.qcow2.image;

import dev.qcow2.UnsupportedFeatureException;
import dev.qcow2.crypto.DataCipher;
import dev.qcow2.crypto.Secret;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.storage.Storage;

import java.io.IOException;

/**
 * Where a layer's key is checked and its data cipher made (the crypto package's work: LUKS key
 * slots, legacy AES). Interim seam until dev.qcow2.crypto's ImageEncryption.unlock is merged.
 */
public final class Unlocking {
    private Unlocking() { }

    /** Makes the data cipher of an encrypted image from its header and a secret. */
    @FunctionalInterface
    public interface Unlocker {
        DataCipher unlock(String resource, Storage imageStorage, Qcow2Header header, Secret secret) throws IOException;
    }

    private static volatile Unlocker unlocker = (resource, storage, header, secret) -> {
        throw new UnsupportedFeatureException(resource, "unlocking encrypted images is not available in this build");
    };

    /** Replaces the unlocker (interim: for specs until the crypto package provides it). */
    public static void use(Unlocker u) { unlocker = u; }

    static DataCipher unlock(String resource, Storage storage, Qcow2Header header, Secret secret) throws IOException {
        return unlocker.unlock(resource, storage, header, secret);
    }
}
