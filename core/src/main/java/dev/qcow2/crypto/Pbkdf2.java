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
                for (long i = 1; i < iterations; ) {
                    int n = (int) Math.min(ROUNDS_PER_CALL, iterations - i);
                    mac.rounds(u, t, n);
                    i += n;
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
     * The iterations run in calls of this many rounds ({@link Hmac#rounds}): after a few calls
     * the round is compiled whole by C2, where one loop of millions of iterations runs as
     * on-stack-replaced code that stays slower.
     */
    private static final int ROUNDS_PER_CALL = 4096;


    /**
     * Iterations per second of PBKDF2 for this key, salt and output length, measured as QEMU's
     * qcrypto_pbkdf2_count_iters: from 2^15 iterations, ×10 while a run takes under 100 ms of
     * thread CPU time, rescaled until one run takes over 500 ms.
     * <p>The measurement costs 0.5-1.5 s of CPU. QEMU repeats it for every key it derives; this
     * process measures once per (hash, output length) and reuses the rate: the speed of HMAC on
     * this CPU does not change while the process runs (thread CPU time does not count the time
     * other processes take), and the key and salt do not enter the per-iteration cost.
     */
    public static long iterationsPerSecond(HashAlgorithm hash, byte[] key, byte[] salt, int outputLength) {
        return MEASURED_RATES.computeIfAbsent(hash.name() + "/" + outputLength, k -> measureRate(hash, key, salt, outputLength));
    }

    private static final java.util.concurrent.ConcurrentMap<String, Long> MEASURED_RATES = new java.util.concurrent.ConcurrentHashMap<>();

    private static long measureRate(HashAlgorithm hash, byte[] key, byte[] salt, int outputLength) {
        java.lang.management.ThreadMXBean bean = java.lang.management.ManagementFactory.getThreadMXBean();
        boolean cpu = bean.isCurrentThreadCpuTimeSupported();
        long iterations = 1 << 15;
        while (true) {
            long start = cpu ? bean.getCurrentThreadCpuTime() : System.nanoTime();
            Arrays.fill(derive(hash, key, salt, iterations, outputLength), (byte) 0);
            long elapsedMs = Math.max(1, ((cpu ? bean.getCurrentThreadCpuTime() : System.nanoTime()) - start) / 1_000_000);
            if (elapsedMs > 500) return iterations * 1000 / elapsedMs;
            iterations = elapsedMs < 100 ? iterations * 10 : iterations * 1000 / elapsedMs;
        }
    }
}
