package dev.qcow2.crypto;

import org.bouncycastle.crypto.digests.RIPEMD160Digest;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.KeyParameter;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;

/** HMAC over a {@link HashAlgorithm}: JCE's Mac (binary keys, unlike its PBKDF2 key factory), or BouncyCastle's for ripemd160. */
abstract class Hmac {
    abstract void update(byte[] b, int off, int len);

    /** Finishes into {@code out} (the digest length) and resets for the next message under the same key. */
    abstract void doFinal(byte[] out);

    abstract int length();

    static Hmac of(HashAlgorithm hash, String jceName, byte[] key) {
        if (jceName == null) {
            HMac m = new HMac(new RIPEMD160Digest());
            m.init(new KeyParameter(key));
            return new Hmac() {
                void update(byte[] b, int off, int len) { m.update(b, off, len); }
                void doFinal(byte[] out) { m.doFinal(out, 0); }
                int length() { return m.getMacSize(); }
            };
        }
        try {
            Mac m = Mac.getInstance("Hmac" + jceName.replace("-", ""));
            // An empty passphrase is a valid LUKS passphrase; SecretKeySpec refuses empty keys.
            m.init(key.length == 0 ? new EmptyKey() : new SecretKeySpec(key, "HMAC"));
            return new Hmac() {
                void update(byte[] b, int off, int len) { m.update(b, off, len); }
                void doFinal(byte[] out) {
                    try {
                        m.doFinal(out, 0);
                    } catch (javax.crypto.ShortBufferException e) {
                        throw new IllegalStateException(e);
                    }
                }
                int length() { return m.getMacLength(); }
            };
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-" + hash.qemuName() + " unavailable", e);
        }
    }

    /** A zero-length HMAC key (RFC 2104 allows it; the JDK's HMAC accepts it through this). */
    private static final class EmptyKey implements javax.crypto.SecretKey {
        public String getAlgorithm() { return "HMAC"; }
        public String getFormat() { return "RAW"; }
        public byte[] getEncoded() { return new byte[0]; }
    }
}
