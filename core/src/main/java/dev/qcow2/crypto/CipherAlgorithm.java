package dev.qcow2.crypto;

import org.bouncycastle.crypto.engines.CAST5Engine;
import org.bouncycastle.crypto.engines.SerpentEngine;
import org.bouncycastle.crypto.engines.TwofishEngine;

import java.util.Optional;

/**
 * The block ciphers QEMU 7.2's LUKS driver offers for {@code encrypt.cipher-alg} (QCryptoCipherAlgorithm
 * minus the DES family, which qemu-img refuses for LUKS): name in qemu's options, name in a LUKS
 * header, key and block size.
 */
public enum CipherAlgorithm {
    AES_128("aes-128", "aes", 16, 16),
    AES_192("aes-192", "aes", 24, 16),
    AES_256("aes-256", "aes", 32, 16),
    CAST5_128("cast5-128", "cast5", 16, 8),
    SERPENT_128("serpent-128", "serpent", 16, 16),
    SERPENT_192("serpent-192", "serpent", 24, 16),
    SERPENT_256("serpent-256", "serpent", 32, 16),
    TWOFISH_128("twofish-128", "twofish", 16, 16),
    TWOFISH_192("twofish-192", "twofish", 24, 16),
    TWOFISH_256("twofish-256", "twofish", 32, 16);

    private final String qemuName;
    private final String luksName;
    private final int keyLength;
    private final int blockSize;

    CipherAlgorithm(String qemuName, String luksName, int keyLength, int blockSize) {
        this.qemuName = qemuName;
        this.luksName = luksName;
        this.keyLength = keyLength;
        this.blockSize = blockSize;
    }

    public String qemuName() { return qemuName; }

    public String luksName() { return luksName; }

    public int keyLength() { return keyLength; }

    public int blockSize() { return blockSize; }

    public static Optional<CipherAlgorithm> byQemuName(String name) {
        for (CipherAlgorithm c : values()) if (c.qemuName.equals(name)) return Optional.of(c);
        return Optional.empty();
    }

    /** qcrypto_block_luks_cipher_name_lookup: a LUKS header's cipher name and key length. */
    public static Optional<CipherAlgorithm> byLuksName(String name, int keyLength) {
        for (CipherAlgorithm c : values()) {
            if (c.luksName.equals(name) && c.keyLength == keyLength) return Optional.of(c);
        }
        return Optional.empty();
    }

    /**
     * qcrypto_block_luks_essiv_cipher: the cipher of the same family whose key length equals the
     * ESSIV hash's digest length (aes-256 for sha256, aes-128 for md5), if there is one.
     */
    public Optional<CipherAlgorithm> essivCipher(HashAlgorithm hash) {
        for (CipherAlgorithm c : values()) {
            if (c.luksName.equals(luksName) && c.keyLength == hash.digestLength()) return Optional.of(c);
        }
        return Optional.empty();
    }

    BlockEngine engine(byte[] key) {
        if (key.length != keyLength) throw new IllegalArgumentException(qemuName + " needs a " + keyLength + "-byte key");
        return switch (this) {
            case AES_128, AES_192, AES_256 -> BlockEngine.jceAes(key);
            case CAST5_128 -> BlockEngine.bouncyCastle(CAST5Engine::new, key);
            case SERPENT_128, SERPENT_192, SERPENT_256 -> BlockEngine.bouncyCastle(SerpentEngine::new, key);
            case TWOFISH_128, TWOFISH_192, TWOFISH_256 -> BlockEngine.bouncyCastle(TwofishEngine::new, key);
        };
    }
}
