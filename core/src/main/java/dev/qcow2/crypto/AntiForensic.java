package dev.qcow2.crypto;

import java.security.SecureRandom;
import java.util.Arrays;

/**
 * LUKS's anti-forensic information splitter (QEMU crypto/afsplit.c, cryptsetup's AF_split/AF_merge):
 * a key of {@code blockLength} bytes is stored as {@code stripes} blocks whose diffused XOR chain
 * gives it back, so destroying any block destroys the key.
 */
public final class AntiForensic {
    private AntiForensic() { }

    /** qcrypto_afsplit_hash: each digest-sized piece i of the block becomes H(be32(i) || piece), truncated. */
    private static void diffuse(HashAlgorithm hash, byte[] block) {
        int digestLength = hash.digestLength();
        int pieces = (block.length + digestLength - 1) / digestLength;
        byte[] index = new byte[4];
        for (int i = 0; i < pieces; i++) {
            int from = i * digestLength;
            int len = Math.min(digestLength, block.length - from);
            index[0] = (byte) (i >>> 24); index[1] = (byte) (i >>> 16); index[2] = (byte) (i >>> 8); index[3] = (byte) i;
            byte[] digest = hash.digest(index, Arrays.copyOfRange(block, from, from + len));
            System.arraycopy(digest, 0, block, from, len);
            Arrays.fill(digest, (byte) 0);
        }
    }

    /** qcrypto_afsplit_decode: the key from {@code stripes} split blocks of {@code blockLength} bytes. */
    public static byte[] merge(HashAlgorithm hash, int blockLength, int stripes, byte[] split) {
        byte[] block = new byte[blockLength];
        for (int i = 0; i < stripes - 1; i++) {
            int base = i * blockLength;
            for (int j = 0; j < blockLength; j++) block[j] ^= split[base + j];
            diffuse(hash, block);
        }
        int last = (stripes - 1) * blockLength;
        for (int j = 0; j < blockLength; j++) block[j] ^= split[last + j];
        return block;
    }

    /** qcrypto_afsplit_encode: {@code key} spread over {@code stripes} blocks, all but the last random. */
    public static byte[] split(HashAlgorithm hash, int stripes, byte[] key, SecureRandom random) {
        int blockLength = key.length;
        byte[] out = new byte[blockLength * stripes];
        byte[] block = new byte[blockLength];
        byte[] fill = new byte[blockLength];
        for (int i = 0; i < stripes - 1; i++) {
            random.nextBytes(fill);
            System.arraycopy(fill, 0, out, i * blockLength, blockLength);
            for (int j = 0; j < blockLength; j++) block[j] ^= fill[j];
            diffuse(hash, block);
        }
        int last = (stripes - 1) * blockLength;
        for (int j = 0; j < blockLength; j++) out[last + j] = (byte) (block[j] ^ key[j]);
        Arrays.fill(block, (byte) 0);
        Arrays.fill(fill, (byte) 0);
        return out;
    }
}
