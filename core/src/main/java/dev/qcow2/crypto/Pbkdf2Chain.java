package dev.qcow2.crypto;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Optional;

/**
 * PBKDF2's iterations U2 … Uc (RFC 8018 §5.2) run on the hash's compression function: each
 * HMAC is two blocks, the inner and the outer, compressed from the pad states cached once per
 * key, as nettle's pbkdf2 runs them (the LUKS key-slot unlock is one chain of millions of these,
 * sequential by design; QEMU: qcrypto_pbkdf2 over nettle). The message of each half is a digest
 * of hLen bytes after one pad block, so its last block is always {@code U || 0x80 || 0… ||
 * bitlength(block + hLen)}: only the first hLen bytes change between iterations.
 * <p>The compression function is the JDK's own ({@code sun.security.provider.SHA}, {@code SHA2},
 * {@code SHA5}: {@code implCompress0}, which C2 replaces by its SHA-NI/AVX2 stubs), reached
 * through a private lookup. That needs {@code --add-opens=java.base/sun.security.provider=ALL-UNNAMED}
 * (the launcher passes it to commands given a secret); without it {@link #of} is empty and
 * {@link Pbkdf2} runs the same iterations through {@link Hmac} (MessageDigest clones). MD5 and
 * ripemd160 always go through {@link Hmac}. {@code Pbkdf2ChainSpec} checks both give the same
 * keys.
 */
final class Pbkdf2Chain {
    /** The JDK digest class whose private {@code state} and {@code implCompress0} we drive. */
    private enum Family { SHA1, SHA2, SHA5 }

    private final HashAlgorithm hash;
    private final Family family;
    private final int blockBytes;
    private final int stateWords;

    private Pbkdf2Chain(HashAlgorithm hash, Family family, int blockBytes, int stateWords) {
        this.hash = hash;
        this.family = family;
        this.blockBytes = blockBytes;
        this.stateWords = stateWords;
    }

    /** The chain for {@code hash}, when the JDK's compression function is reachable. */
    static Optional<Pbkdf2Chain> of(HashAlgorithm hash) {
        if (!Jdk.AVAILABLE) return Optional.empty();
        return switch (hash) {
            case SHA1 -> Optional.of(new Pbkdf2Chain(hash, Family.SHA1, 64, 5));
            case SHA224, SHA256 -> Optional.of(new Pbkdf2Chain(hash, Family.SHA2, 64, 8));
            case SHA384, SHA512 -> Optional.of(new Pbkdf2Chain(hash, Family.SHA5, 128, 8));
            case MD5, RIPEMD160 -> Optional.empty();
        };
    }

    /** Whether this JVM lets us drive the JDK's compression functions (the add-opens is given). */
    static boolean available() { return Jdk.AVAILABLE; }

    /**
     * XORs U2 … U{iterations} into {@code t}, given U1 in {@code u} (both hLen bytes; {@code u}
     * ends as U{iterations}), for HMAC keyed with {@code password}.
     */
    void iterate(byte[] password, byte[] u, byte[] t, long iterations) {
        if (iterations < 2) return;
        Object digest = Jdk.newDigest(hash);
        byte[] ipad = new byte[blockBytes];
        byte[] opad = new byte[blockBytes];
        byte[] block = new byte[blockBytes];
        byte[] k = password.length > blockBytes ? hash.digest(password) : password.clone();
        for (int i = 0; i < blockBytes; i++) {
            byte b = i < k.length ? k[i] : 0;
            ipad[i] = (byte) (b ^ 0x36);
            opad[i] = (byte) (b ^ 0x5c);
        }
        Arrays.fill(k, (byte) 0);
        int hLen = u.length;
        // the last block of both halves: hLen bytes of digest, 0x80, zeros, the message length in
        // bits (one pad block + hLen) big-endian in the last 8 bytes (SHA-384/512: of 16)
        block[hLen] = (byte) 0x80;
        putLong(block, blockBytes - 8, (long) (blockBytes + hLen) * 8);
        try {
            if (family == Family.SHA5) iterate64(digest, ipad, opad, block, u, t, iterations);
            else iterate32(digest, ipad, opad, block, u, t, iterations);
        } finally {
            Arrays.fill(ipad, (byte) 0);
            Arrays.fill(opad, (byte) 0);
            Arrays.fill(block, (byte) 0);
        }
    }

    private void iterate32(Object digest, byte[] ipad, byte[] opad, byte[] block, byte[] u, byte[] t, long iterations) {
        int[] state = (int[]) Jdk.state(family).get(digest);   // the digest's live state words
        int n = stateWords;
        int words = u.length / 4;
        int[] inner = new int[n];
        int[] outer = new int[n];
        int[] iv = Arrays.copyOf(state, n);
        try {
            compress(digest, ipad);
            System.arraycopy(state, 0, inner, 0, n);
            System.arraycopy(iv, 0, state, 0, n);
            compress(digest, opad);
            System.arraycopy(state, 0, outer, 0, n);
            System.arraycopy(u, 0, block, 0, u.length);
            int[] sum = new int[words];
            for (int w = 0; w < words; w++) sum[w] = getInt(t, 4 * w);
            for (long i = 1; i < iterations; i++) {
                System.arraycopy(inner, 0, state, 0, n);
                compress(digest, block);
                for (int w = 0; w < words; w++) putInt(block, 4 * w, state[w]);
                System.arraycopy(outer, 0, state, 0, n);
                compress(digest, block);
                for (int w = 0; w < words; w++) {
                    putInt(block, 4 * w, state[w]);
                    sum[w] ^= state[w];
                }
            }
            System.arraycopy(block, 0, u, 0, u.length);
            for (int w = 0; w < words; w++) putInt(t, 4 * w, sum[w]);
            Arrays.fill(sum, 0);
        } finally {
            Arrays.fill(inner, 0);
            Arrays.fill(outer, 0);
            Arrays.fill(state, 0);
        }
    }

    private void iterate64(Object digest, byte[] ipad, byte[] opad, byte[] block, byte[] u, byte[] t, long iterations) {
        long[] state = (long[]) Jdk.state(family).get(digest);
        int n = stateWords;
        int words = u.length / 8;
        long[] inner = new long[n];
        long[] outer = new long[n];
        long[] iv = Arrays.copyOf(state, n);
        try {
            compress(digest, ipad);
            System.arraycopy(state, 0, inner, 0, n);
            System.arraycopy(iv, 0, state, 0, n);
            compress(digest, opad);
            System.arraycopy(state, 0, outer, 0, n);
            System.arraycopy(u, 0, block, 0, u.length);
            long[] sum = new long[words];
            for (int w = 0; w < words; w++) sum[w] = getLong(t, 8 * w);
            for (long i = 1; i < iterations; i++) {
                System.arraycopy(inner, 0, state, 0, n);
                compress(digest, block);
                for (int w = 0; w < words; w++) putLong(block, 8 * w, state[w]);
                System.arraycopy(outer, 0, state, 0, n);
                compress(digest, block);
                for (int w = 0; w < words; w++) {
                    putLong(block, 8 * w, state[w]);
                    sum[w] ^= state[w];
                }
            }
            System.arraycopy(block, 0, u, 0, u.length);
            for (int w = 0; w < words; w++) putLong(t, 8 * w, sum[w]);
            Arrays.fill(sum, 0);
        } finally {
            Arrays.fill(inner, 0);
            Arrays.fill(outer, 0);
            Arrays.fill(state, 0);
        }
    }

    // big-endian words by shifts: the hot loop stays small for C2 (a VarHandle access inlines a
    // tree of methods, and the loop is compiled on-stack-replacement while the key is derived)
    private static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24); b[off + 1] = (byte) (v >>> 16); b[off + 2] = (byte) (v >>> 8); b[off + 3] = (byte) v;
    }

    private static int getInt(byte[] b, int off) {
        return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | b[off + 3] & 0xff;
    }

    private static void putLong(byte[] b, int off, long v) {
        putInt(b, off, (int) (v >>> 32));
        putInt(b, off + 4, (int) v);
    }

    private static long getLong(byte[] b, int off) {
        return (long) getInt(b, off) << 32 | getInt(b, off + 4) & 0xffffffffL;
    }

    /** One block into the digest's state: implCompress0(block, 0), a constant call site per family. */
    private void compress(Object digest, byte[] block) {
        try {
            switch (family) {
                case SHA1 -> Jdk.SHA1_COMPRESS.invokeExact(digest, block, 0);
                case SHA2 -> Jdk.SHA2_COMPRESS.invokeExact(digest, block, 0);
                case SHA5 -> Jdk.SHA5_COMPRESS.invokeExact(digest, block, 0);
            }
        } catch (Throwable e) {
            throw new IllegalStateException("the JDK's " + hash.qemuName() + " compression failed", e);
        }
    }

    /** The handles into sun.security.provider, or AVAILABLE = false when the package is not opened to us. */
    private static final class Jdk {
        static final MethodType COMPRESS_TYPE = MethodType.methodType(void.class, Object.class, byte[].class, int.class);
        static final MethodHandle SHA1_COMPRESS, SHA2_COMPRESS, SHA5_COMPRESS;
        static final VarHandle SHA1_STATE, SHA2_STATE, SHA5_STATE;
        static final MethodHandles.Lookup LOOKUP;
        static final boolean AVAILABLE;

        static {
            MethodHandle c1 = null, c2 = null, c5 = null;
            VarHandle s1 = null, s2 = null, s5 = null;
            MethodHandles.Lookup lookup = null;
            boolean ok = false;
            try {
                Class<?> sha1 = Class.forName("sun.security.provider.SHA");
                Class<?> sha2 = Class.forName("sun.security.provider.SHA2");
                Class<?> sha5 = Class.forName("sun.security.provider.SHA5");
                // a private lookup reaches the private members of its own class only: one per class
                MethodHandles.Lookup in1 = MethodHandles.privateLookupIn(sha1, MethodHandles.lookup());
                MethodHandles.Lookup in2 = MethodHandles.privateLookupIn(sha2, MethodHandles.lookup());
                MethodHandles.Lookup in5 = MethodHandles.privateLookupIn(sha5, MethodHandles.lookup());
                lookup = in2;
                MethodType raw = MethodType.methodType(void.class, byte[].class, int.class);
                c1 = in1.findVirtual(sha1, "implCompress0", raw).asType(COMPRESS_TYPE);
                c2 = in2.findVirtual(sha2, "implCompress0", raw).asType(COMPRESS_TYPE);
                c5 = in5.findVirtual(sha5, "implCompress0", raw).asType(COMPRESS_TYPE);
                s1 = in1.findVarHandle(sha1, "state", int[].class);
                s2 = in2.findVarHandle(sha2, "state", int[].class);
                s5 = in5.findVarHandle(sha5, "state", long[].class);
                ok = true;
            } catch (ReflectiveOperationException | RuntimeException e) {
                // not opened (IllegalAccessException), or another JDK's internals: Hmac's path
                ok = false;
            }
            SHA1_COMPRESS = c1; SHA2_COMPRESS = c2; SHA5_COMPRESS = c5;
            SHA1_STATE = s1; SHA2_STATE = s2; SHA5_STATE = s5;
            LOOKUP = lookup;
            AVAILABLE = ok && works();
        }

        static VarHandle state(Family f) {
            return switch (f) { case SHA1 -> SHA1_STATE; case SHA2 -> SHA2_STATE; case SHA5 -> SHA5_STATE; };
        }

        /** A fresh digest object of the provider's class for {@code hash} (its state = the initial hash). */
        static Object newDigest(HashAlgorithm hash) {
            String name = switch (hash) {
                case SHA1 -> "sun.security.provider.SHA";
                case SHA224 -> "sun.security.provider.SHA2$SHA224";
                case SHA256 -> "sun.security.provider.SHA2$SHA256";
                case SHA384 -> "sun.security.provider.SHA5$SHA384";
                case SHA512 -> "sun.security.provider.SHA5$SHA512";
                case MD5, RIPEMD160 -> throw new IllegalArgumentException(hash.qemuName());
            };
            try {
                return LOOKUP.findConstructor(Class.forName(name), MethodType.methodType(void.class)).invoke();
            } catch (Throwable e) {
                throw new IllegalStateException("the JDK's " + hash.qemuName() + " is unavailable", e);
            }
        }

        /** The compression of one known block must give the known digest: SHA-256("abc"). */
        private static boolean works() {
            try {
                Object d = newDigest(HashAlgorithm.SHA256);
                byte[] block = new byte[64];
                block[0] = 'a'; block[1] = 'b'; block[2] = 'c'; block[3] = (byte) 0x80; block[63] = 24;
                SHA2_COMPRESS.invokeExact(d, block, 0);
                return ((int[]) SHA2_STATE.get(d))[0] == 0xba7816bf;
            } catch (Throwable e) {
                return false;
            }
        }
    }
}
