package dev.qcow2.rescue;

import dev.qcow2.crypto.DataCipher;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.storage.Storage;

/**
 * Where a rescued guest cluster's bytes come from besides the damaged file's tables: the storage
 * data clusters live in (the damaged file itself, or its external data file), the data cipher
 * of an encrypted image (LUKS: IV from the host offset; legacy AES: IV from the guest offset,
 * qcow2.rst "crypt_method"), and the intact base of an overlay (guest clusters the overlay does
 * not hold read from it).
 *
 * @param data       the storage data cluster offsets point into
 * @param dataSize   its size in bytes
 * @param external   true when {@code data} is an external data file (guest offset = host offset there)
 * @param dataRaw    the header's data_file_raw bit survived and is set
 * @param cipher     the unlocked data cipher, or null
 * @param base       the overlay's base, or null
 */
record Sources(Storage data, long dataSize, boolean external, boolean dataRaw, DataCipher cipher, BlockDevice base) {
    /** Decrypts one cluster read at host offset {@code host} for guest offset {@code guest}, in place. */
    void decrypt(long host, long guest, byte[] buf) {
        if (cipher == null) return;
        cipher.decrypt(cipher.ivFromHostOffset() ? host : guest, buf, 0, buf.length);
    }
}
