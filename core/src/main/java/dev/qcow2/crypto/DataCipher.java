package dev.qcow2.crypto;

/**
 * The data cipher of an unlocked encrypted image: QEMU's qcrypto_block_encrypt/decrypt as
 * qcow2 uses them (qcow2_co_encrypt/qcow2_co_decrypt). Data is processed in place in whole
 * 512-byte sectors (QCRYPTO_BLOCK_QCOW_SECTOR_SIZE / QCRYPTO_BLOCK_LUKS_SECTOR_SIZE); the IV
 * sector number is {@code offset / 512} where offset is the HOST file offset for LUKS
 * (s->crypt_physical_offset) and the GUEST offset for legacy AES.
 * Implementations are thread-safe and may spread large requests over all cores.
 */
public interface DataCipher extends AutoCloseable {

    /** true: IVs count sectors from the host offset (LUKS); false: from the guest offset (legacy AES). */
    boolean ivFromHostOffset();

    /** Decrypts {@code length} bytes (a multiple of 512) in place; {@code offset} is a multiple of 512. */
    void decrypt(long offset, byte[] buf, int bufOffset, int length);

    /** Encrypts {@code length} bytes (a multiple of 512) in place; {@code offset} is a multiple of 512. */
    void encrypt(long offset, byte[] buf, int bufOffset, int length);

    /** Zeroes the key material. */
    @Override void close();
}
