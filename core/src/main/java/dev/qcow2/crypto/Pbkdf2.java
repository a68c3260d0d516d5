package dev.qcow2.crypto;

import java.util.Arrays;

/**
 * PBKDF2 (RFC 8018 §5.2) with HMAC over any {@link HashAlgorithm}, on binary passwords (the LUKS
 * master-key digest derives from the raw master key, which JCE's char[]-based key factory would
 * UTF-8-encode). QEMU: qcrypto_pbkdf2.
 */
public final class Pbkdf2 {
    private Pbkdf2() { }

    public static byte[] derive(HashAlgorithm hash, byte[] password, byte[] salt, long iterations, int length) {
        if (iterations < 1) throw new IllegalArgumentException("PBKDF2 iterations must be at least 1");
        Hmac mac = hash.hmac(password);
        int hLen = mac.length();
        byte[] out = new byte[length];
        byte[] u = new byte[hLen];
        byte[] t = new byte[hLen];
        byte[] index = new byte[4];
        try {
            for (int block = 1, done = 0; done < length; block++, done += hLen) {
                index[0] = (byte) (block >>> 24); index[1] = (byte) (block >>> 16);
                index[2] = (byte) (block >>> 8); index[3] = (byte) block;
                mac.update(salt, 0, salt.length);
                mac.update(index, 0, 4);
                mac.doFinal(u);
                System.arraycopy(u, 0, t, 0, hLen);
                for (long i = 1; i < iterations; i++) {
                    mac.update(u, 0, hLen);
                    mac.doFinal(u);
                    for (int j = 0; j < hLen; j++) t[j] ^= u[j];
                }
                System.arraycopy(t, 0, out, done, Math.min(hLen, length - done));
            }
            return out;
        } finally {
            Arrays.fill(u, (byte) 0);
            Arrays.fill(t, (byte) 0);
        }
    }

    /**
     * Iterations per second for {@code hash}, measured as QEMU's qcrypto_pbkdf2_count_iters
     * (derive with a growing iteration count until one run takes at least 500 ms of CPU time)
     * scaled to {@code millis}.
     */
    public static long iterationsFor(HashAlgorithm hash, int keyLength, long millis) {
        byte[] password = "qcow2-toolkit pbkdf2 calibration".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] salt = new byte[32];
        long iterations = 1 << 15;
        java.lang.management.ThreadMXBean bean = java.lang.management.ManagementFactory.getThreadMXBean();
        boolean cpu = bean.isCurrentThreadCpuTimeSupported();
        while (true) {
            long start = cpu ? bean.getCurrentThreadCpuTime() : System.nanoTime();
            Arrays.fill(derive(hash, password, salt, iterations, keyLength), (byte) 0);
            long elapsed = (cpu ? bean.getCurrentThreadCpuTime() : System.nanoTime()) - start;
            if (elapsed >= 500_000_000L || iterations > (1L << 40)) {
                long perSecond = iterations * 1_000_000_000L / Math.max(1, elapsed);
                return Math.max(1, perSecond * millis / 1000);
            }
            iterations <<= 1;
        }
    }
}
