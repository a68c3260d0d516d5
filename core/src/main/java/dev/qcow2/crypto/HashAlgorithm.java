package dev.qcow2.crypto;

import org.bouncycastle.crypto.Digest;
import org.bouncycastle.crypto.digests.RIPEMD160Digest;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Optional;

/**
 * The hash algorithms QEMU's LUKS driver accepts (QCryptoHashAlgorithm, as named in the LUKS
 * header's hash-spec and by {@code encrypt.hash-alg}/{@code encrypt.ivgen-hash-alg}).
 * JCE provides all but ripemd160, which comes from BouncyCastle's lightweight API.
 */
public enum HashAlgorithm {
    MD5("md5", "MD5", 16),
    SHA1("sha1", "SHA-1", 20),
    SHA224("sha224", "SHA-224", 28),
    SHA256("sha256", "SHA-256", 32),
    SHA384("sha384", "SHA-384", 48),
    SHA512("sha512", "SHA-512", 64),
    RIPEMD160("ripemd160", null, 20);

    private final String qemuName;
    private final String jceName;
    private final int digestLength;

    HashAlgorithm(String qemuName, String jceName, int digestLength) {
        this.qemuName = qemuName;
        this.jceName = jceName;
        this.digestLength = digestLength;
    }

    public String qemuName() { return qemuName; }

    public int digestLength() { return digestLength; }

    /** By QEMU's name (as in a LUKS header's hash-spec, case-insensitive like cryptsetup's). */
    public static Optional<HashAlgorithm> byName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (HashAlgorithm h : values()) if (h.qemuName.equals(n)) return Optional.of(h);
        return Optional.empty();
    }

    /** One-shot digest of {@code parts} concatenated. */
    public byte[] digest(byte[]... parts) {
        if (jceName == null) {
            Digest d = new RIPEMD160Digest();
            for (byte[] p : parts) d.update(p, 0, p.length);
            byte[] out = new byte[d.getDigestSize()];
            d.doFinal(out, 0);
            return out;
        }
        try {
            MessageDigest md = MessageDigest.getInstance(jceName);
            for (byte[] p : parts) md.update(p);
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(jceName + " missing from the JDK", e);
        }
    }

    /** A fresh HMAC keyed with {@code key}. */
    Hmac hmac(byte[] key) { return Hmac.of(this, jceName, key); }
}
