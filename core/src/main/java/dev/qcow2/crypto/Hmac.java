package dev.qcow2.crypto;

import org.bouncycastle.crypto.digests.RIPEMD160Digest;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.KeyParameter;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;

/** HMAC over a {@link HashAlgorithm}: on a JCE digest with both pad states cached (binary keys, empty ones included), or BouncyCastle's for ripemd160. */
abstract class Hmac {
    abstract void update(byte[] b, int off, int len);

    /** Finishes into {@code out} (the digest length) and resets for the next message under the same key. */
    abstract void doFinal(byte[] out);

    abstract int length();

    /**
     * PBKDF2's inner loop, {@code n} times: U = HMAC(U), T ^= U ({@code u} and {@code t} the
     * digest length). Here over {@link #update}/{@link #doFinal}; implementations may run it in
     * one method, so that the JIT compiles the whole round (not a call into a separately
     * compiled, less optimised HMAC).
     */
    void rounds(byte[] u, byte[] t, int n) {
        int hLen = u.length;
        for (int k = 0; k < n; k++) {
            update(u, 0, hLen);
            doFinal(u);
            for (int j = 0; j < hLen; j++) t[j] ^= u[j];
        }
    }

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
            return new PadCached(jceName, key);
        } catch (GeneralSecurityException | CloneNotSupportedException e) {
            throw new IllegalStateException("HMAC-" + hash.qemuName() + " unavailable", e);
        }
    }

    /**
     * RFC 2104 HMAC over a JCE digest with the key's inner and outer pad blocks hashed once:
     * each message then costs the digest of its own bytes plus one outer block, where the JDK's
     * Mac hashes both pad blocks again for every message. PBKDF2 computes millions of two-block
     * HMACs (as nettle does, caching both pad states), so this halves its work.
     */
    private static final class PadCached extends Hmac {
        private final MessageDigest innerPadded;
        private final MessageDigest outerPadded;
        private MessageDigest inner;
        private final byte[] innerDigest;

        PadCached(String jceName, byte[] key) throws GeneralSecurityException, CloneNotSupportedException {
            MessageDigest md = MessageDigest.getInstance(jceName);
            int block = md.getDigestLength() > 32 ? 128 : 64;   // SHA-384/512: 1024-bit blocks; MD5, SHA-1/224/256: 512
            byte[] k = key.length > block ? md.digest(key) : key.clone();
            byte[] ipad = new byte[block];
            byte[] opad = new byte[block];
            for (int i = 0; i < block; i++) {
                byte b = i < k.length ? k[i] : 0;
                ipad[i] = (byte) (b ^ 0x36);
                opad[i] = (byte) (b ^ 0x5c);
            }
            Arrays.fill(k, (byte) 0);
            innerPadded = MessageDigest.getInstance(jceName);
            innerPadded.update(ipad);
            outerPadded = MessageDigest.getInstance(jceName);
            outerPadded.update(opad);
            Arrays.fill(ipad, (byte) 0);
            Arrays.fill(opad, (byte) 0);
            inner = (MessageDigest) innerPadded.clone();
            innerDigest = new byte[md.getDigestLength()];
        }

        void update(byte[] b, int off, int len) { inner.update(b, off, len); }

        void doFinal(byte[] out) {
            try {
                inner.digest(innerDigest, 0, innerDigest.length);
                MessageDigest outer = (MessageDigest) outerPadded.clone();
                outer.update(innerDigest);
                outer.digest(out, 0, innerDigest.length);
                inner = (MessageDigest) innerPadded.clone();
            } catch (GeneralSecurityException | CloneNotSupportedException e) {
                throw new IllegalStateException(e);
            }
        }

        int length() { return innerDigest.length; }

        /**
         * The rounds in one method: measured in the CLI (a busy C2 queue), C2 compiled the
         * caller's loop but refused to inline {@link #doFinal} ("already compiled into a big
         * method"), which then ran as C1 code — 2.9 s instead of 1.5 s for the 8.7 M HMACs of a
         * LUKS unlock with qemu's default iter-time.
         */
        @Override
        void rounds(byte[] u, byte[] t, int n) {
            int hLen = innerDigest.length;
            try {
                for (int k = 0; k < n; k++) {
                    MessageDigest in = (MessageDigest) innerPadded.clone();
                    in.update(u, 0, hLen);
                    in.digest(innerDigest, 0, hLen);
                    MessageDigest out = (MessageDigest) outerPadded.clone();
                    out.update(innerDigest, 0, hLen);
                    out.digest(u, 0, hLen);
                    for (int j = 0; j < hLen; j++) t[j] ^= u[j];
                }
            } catch (GeneralSecurityException | CloneNotSupportedException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
