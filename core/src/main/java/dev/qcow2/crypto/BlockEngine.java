package dev.qcow2.crypto;

import org.bouncycastle.crypto.BlockCipher;
import org.bouncycastle.crypto.params.KeyParameter;

import javax.crypto.Cipher;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.util.function.Supplier;

/**
 * One keyed block cipher in ECB form, processing whole blocks in place. Not thread-safe: a
 * {@link SectorCipher} keeps one per thread. AES runs on the JDK's provider (AES-NI intrinsics),
 * the other ciphers QEMU offers on BouncyCastle's engines.
 */
abstract class BlockEngine {
    abstract int blockSize();

    abstract void encrypt(byte[] buf, int off, int len);

    abstract void decrypt(byte[] buf, int off, int len);

    static BlockEngine jceAes(byte[] key) {
        try {
            SecretKeySpec spec = new SecretKeySpec(key, "AES");
            Cipher enc = Cipher.getInstance("AES/ECB/NoPadding");
            enc.init(Cipher.ENCRYPT_MODE, spec);
            Cipher dec = Cipher.getInstance("AES/ECB/NoPadding");
            dec.init(Cipher.DECRYPT_MODE, spec);
            return new BlockEngine() {
                int blockSize() { return 16; }
                void encrypt(byte[] buf, int off, int len) { run(enc, buf, off, len); }
                void decrypt(byte[] buf, int off, int len) { run(dec, buf, off, len); }
            };
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES unavailable", e);
        }
    }

    private static void run(Cipher c, byte[] buf, int off, int len) {
        try {
            c.update(buf, off, len, buf, off);
        } catch (ShortBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    static BlockEngine bouncyCastle(Supplier<BlockCipher> factory, byte[] key) {
        BlockCipher enc = factory.get();
        enc.init(true, new KeyParameter(key));
        BlockCipher dec = factory.get();
        dec.init(false, new KeyParameter(key));
        int bs = enc.getBlockSize();
        return new BlockEngine() {
            int blockSize() { return bs; }
            void encrypt(byte[] buf, int off, int len) { for (int i = 0; i < len; i += bs) enc.processBlock(buf, off + i, buf, off + i); }
            void decrypt(byte[] buf, int off, int len) { for (int i = 0; i < len; i += bs) dec.processBlock(buf, off + i, buf, off + i); }
        };
    }
}
