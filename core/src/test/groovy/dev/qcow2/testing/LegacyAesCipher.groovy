package dev.qcow2.testing

import dev.qcow2.crypto.DataCipher

import javax.crypto.Cipher
import javax.crypto.spec.IvParameterSpec
import javax.crypto.spec.SecretKeySpec
import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * Spec-side stand-in for the crypto package's legacy AES cipher (QEMU's qcrypto-block-qcow):
 * key = the passphrase's first 16 bytes zero-padded, AES-128-CBC per 512-byte sector, IV =
 * little-endian GUEST sector number (plain64). Written from the format rule, independent of
 * the code under test.
 */
class LegacyAesCipher implements DataCipher {
    private final SecretKeySpec key
    private final boolean hostIv

    LegacyAesCipher(byte[] passphrase) { this(passphrase, false) }

    /**
     * @param hostIv count IV sectors from the HOST offset, as LUKS does: a spec-only variant
     *               that exercises the LUKS path (copy-on-write must re-encrypt for the new
     *               host cluster) without a LUKS header
     */
    LegacyAesCipher(byte[] passphrase, boolean hostIv) {
        this.hostIv = hostIv
        byte[] k = new byte[16]
        System.arraycopy(passphrase, 0, k, 0, Math.min(16, passphrase.length))
        key = new SecretKeySpec(k, 'AES')
        Arrays.fill(k, (byte) 0)
    }

    @Override boolean ivFromHostOffset() { hostIv }

    @Override void decrypt(long offset, byte[] buf, int bufOffset, int length) { run(Cipher.DECRYPT_MODE, offset, buf, bufOffset, length) }

    @Override void encrypt(long offset, byte[] buf, int bufOffset, int length) { run(Cipher.ENCRYPT_MODE, offset, buf, bufOffset, length) }

    private void run(int mode, long offset, byte[] buf, int off, int len) {
        assert offset % 512 == 0 && len % 512 == 0
        def c = Cipher.getInstance('AES/CBC/NoPadding')
        for (int s = 0; s < len; s += 512) {
            byte[] iv = new byte[16]
            ByteBuffer.wrap(iv).order(ByteOrder.LITTLE_ENDIAN).putLong(offset.intdiv(512) + s.intdiv(512))
            c.init(mode, key, new IvParameterSpec(iv))
            c.doFinal(buf, off + s, 512, buf, off + s)
        }
    }

    @Override void close() { }
}
