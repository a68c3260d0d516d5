package dev.qcow2.crypto;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Sector-wise encryption as QEMU's qcrypto_block_cipher_{en,de}crypt_helper does it: every
 * 512-byte sector gets its own IV from the IV generator (sector number = start sector + index),
 * then the cipher mode runs over that sector alone. Thread-safe: each thread keeps its own keyed
 * engines; requests of {@value #PARALLEL_THRESHOLD} bytes or more are spread over all cores.
 */
public final class SectorCipher implements DataCipher {
    public static final int SECTOR_SIZE = 512;
    static final int PARALLEL_THRESHOLD = 256 * 1024;
    private static final int CHUNK = 64 * 1024;
    /** Sectors whose block-cipher work goes to the engine in one call (XTS, CBC decryption). */
    private static final int BATCH_SECTORS = CHUNK / SECTOR_SIZE;
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final CipherAlgorithm algorithm;
    private final CipherMode mode;
    private final IvGenerator ivGenerator;
    private final CipherAlgorithm essivAlgorithm;
    private final boolean ivFromHostOffset;
    private final byte[] key;
    private final byte[] essivKey;
    private final ThreadLocal<State> states;
    private volatile boolean closed;

    /**
     * @param key          the whole key: for XTS the data key followed by the tweak key, each
     *                     {@code algorithm.keyLength()} bytes (copied; the copy is zeroed on close)
     * @param ivHash       ESSIV's hash, else ignored
     */
    public SectorCipher(CipherAlgorithm algorithm, CipherMode mode, IvGenerator ivGenerator, HashAlgorithm ivHash,
                        byte[] key, boolean ivFromHostOffset) {
        int expected = algorithm.keyLength() * (mode == CipherMode.XTS ? 2 : 1);
        if (key.length != expected) {
            throw new IllegalArgumentException(algorithm.qemuName() + "-" + mode.qemuName() + " needs a " + expected + "-byte key");
        }
        if (mode == CipherMode.XTS && algorithm.blockSize() != 16) {
            throw new IllegalArgumentException("Unsupported cipher mode xts");
        }
        if (mode != CipherMode.ECB && ivGenerator == IvGenerator.NONE) {
            throw new IllegalArgumentException("cipher mode " + mode.qemuName() + " needs an IV generator");
        }
        this.algorithm = algorithm;
        this.mode = mode;
        this.ivGenerator = ivGenerator;
        this.ivFromHostOffset = ivFromHostOffset;
        this.key = key.clone();
        if (ivGenerator == IvGenerator.ESSIV) {
            this.essivAlgorithm = algorithm.essivCipher(ivHash).orElseThrow(() -> new IllegalArgumentException(
                    "Unsupported cipher/hash combination " + algorithm.qemuName() + "/" + ivHash.qemuName()));
            this.essivKey = ivHash.digest(this.key);
        } else {
            this.essivAlgorithm = null;
            this.essivKey = null;
        }
        this.states = ThreadLocal.withInitial(this::newState);
    }

    /** Per-thread keyed engines and scratch space. */
    private final class State {
        final BlockEngine data;
        final BlockEngine tweak;
        final BlockEngine essiv;
        final byte[] iv = new byte[algorithm.blockSize()];
        final byte[] scratch = new byte[SECTOR_SIZE];
        /** Per batch: each sector's tweak or IV, then (XTS) every block's tweak / (CBC) the ciphertext. */
        byte[] ivs;
        byte[] batch;

        byte[] ivs() { return ivs != null ? ivs : (ivs = new byte[BATCH_SECTORS * iv.length]); }

        byte[] batch() { return batch != null ? batch : (batch = new byte[CHUNK]); }

        State() {
            int kl = algorithm.keyLength();
            if (mode == CipherMode.XTS) {
                byte[] k1 = Arrays.copyOfRange(key, 0, kl);
                byte[] k2 = Arrays.copyOfRange(key, kl, 2 * kl);
                data = algorithm.engine(k1);
                tweak = algorithm.engine(k2);
                Arrays.fill(k1, (byte) 0);
                Arrays.fill(k2, (byte) 0);
            } else {
                data = algorithm.engine(key);
                tweak = null;
            }
            essiv = essivAlgorithm == null ? null : essivAlgorithm.engine(essivKey);
        }
    }

    private State newState() {
        if (closed) throw new IllegalStateException("cipher closed");
        return new State();
    }

    @Override public boolean ivFromHostOffset() { return ivFromHostOffset; }

    public CipherAlgorithm algorithm() { return algorithm; }

    public CipherMode mode() { return mode; }

    public IvGenerator ivGenerator() { return ivGenerator; }

    @Override public void decrypt(long offset, byte[] buf, int bufOffset, int length) { run(false, offset, buf, bufOffset, length); }

    @Override public void encrypt(long offset, byte[] buf, int bufOffset, int length) { run(true, offset, buf, bufOffset, length); }

    /** Decrypts sectors numbered from {@code firstSector} (LUKS key material: sector 0 at its start). */
    void decryptSectors(long firstSector, byte[] buf, int bufOffset, int length) {
        checkBlocks(length);
        sectors(false, firstSector, buf, bufOffset, length);
    }

    void encryptSectors(long firstSector, byte[] buf, int bufOffset, int length) {
        checkBlocks(length);
        sectors(true, firstSector, buf, bufOffset, length);
    }

    private static void check(int length) {
        if (length % SECTOR_SIZE != 0) throw new IllegalArgumentException("length " + length + " is not a multiple of 512");
    }

    private void checkBlocks(int length) {
        if (length % algorithm.blockSize() != 0) throw new IllegalArgumentException("length " + length + " is not a multiple of the block size");
    }

    private void run(boolean encrypt, long offset, byte[] buf, int bufOffset, int length) {
        if (offset % SECTOR_SIZE != 0) throw new IllegalArgumentException("offset " + offset + " is not sector aligned");
        check(length);
        long firstSector = offset / SECTOR_SIZE;
        if (length < PARALLEL_THRESHOLD || Runtime.getRuntime().availableProcessors() < 2) {
            sectors(encrypt, firstSector, buf, bufOffset, length);
            return;
        }
        int chunks = (length + CHUNK - 1) / CHUNK;
        IntStream.range(0, chunks).parallel().forEach(c -> {
            int from = c * CHUNK;
            int n = Math.min(CHUNK, length - from);
            sectors(encrypt, firstSector + from / SECTOR_SIZE, buf, bufOffset + from, n);
        });
    }

    /**
     * The last sector may be short (a multiple of the block size): LUKS key material of aes-192-cbc
     * is 96,000 bytes, and qcrypto_block_cipher_decrypt_helper processes the remainder as one sector.
     */
    private void sectors(boolean encrypt, long firstSector, byte[] buf, int bufOffset, int length) {
        if (closed) throw new IllegalStateException("cipher closed");
        State s = states.get();
        int whole = length - length % SECTOR_SIZE;
        int done = 0;
        // XTS both ways and CBC decryption: a batch of whole sectors per engine call (the JCE's
        // AES-NI loop then runs over 64 KiB, not 512 bytes); the rest sector by sector
        if (mode == CipherMode.XTS || mode == CipherMode.CBC && !encrypt) {
            for (; done < whole; ) {
                int count = Math.min(BATCH_SECTORS, (whole - done) / SECTOR_SIZE);
                if (mode == CipherMode.XTS) xtsBatch(s, encrypt, firstSector + done / SECTOR_SIZE, buf, bufOffset + done, count);
                else cbcDecryptBatch(s, firstSector + done / SECTOR_SIZE, buf, bufOffset + done, count);
                done += count * SECTOR_SIZE;
            }
        }
        for (; done < length; done += SECTOR_SIZE) {
            long sector = firstSector + done / SECTOR_SIZE;
            int at = bufOffset + done;
            int n = Math.min(SECTOR_SIZE, length - done);
            // ECB ignores the IV QEMU's "ecb-plain64" still names
            if (mode != CipherMode.ECB) iv(s, sector);
            switch (mode) {
                case ECB -> { if (encrypt) s.data.encrypt(buf, at, n); else s.data.decrypt(buf, at, n); }
                case CBC -> { if (encrypt) cbcEncrypt(s, buf, at, n); else cbcDecrypt(s, buf, at, n); }
                case XTS -> xts(s, encrypt, buf, at, n);
                case CTR -> ctr(s, buf, at, n);
            }
        }
    }

    /** Each sector's IV (from the generator, ESSIV included) into {@code s.ivs()}, one after the other. */
    private byte[] ivs(State s, long firstSector, int count) {
        byte[] ivs = s.ivs();
        int bs = s.iv.length;
        for (int k = 0; k < count; k++) {
            iv(s, firstSector + k);
            System.arraycopy(s.iv, 0, ivs, k * bs, bs);
        }
        return ivs;
    }

    /**
     * XTS over {@code count} whole sectors: the sectors' first tweaks E_k2(IV) in one engine call,
     * every block's tweak T_j (T_{j+1} = T_j * alpha in GF(2^128), little-endian, reduction 0x87)
     * XORed in before and after one E_k1/D_k1 call over the whole batch. Same bytes as {@link #xts}.
     */
    private void xtsBatch(State s, boolean encrypt, long firstSector, byte[] buf, int at, int count) {
        byte[] ivs = ivs(s, firstSector, count);
        s.tweak.encrypt(ivs, 0, count * 16);
        byte[] t = s.batch();
        for (int k = 0; k < count; k++) {
            long lo = (long) LONGS.get(ivs, k * 16);
            long hi = (long) LONGS.get(ivs, k * 16 + 8);
            int base = k * SECTOR_SIZE;
            for (int j = 0; j < SECTOR_SIZE; j += 16) {
                LONGS.set(t, base + j, lo);
                LONGS.set(t, base + j + 8, hi);
                int p = at + base + j;
                LONGS.set(buf, p, (long) LONGS.get(buf, p) ^ lo);
                LONGS.set(buf, p + 8, (long) LONGS.get(buf, p + 8) ^ hi);
                long reduce = (hi >> 63) & 0x87;
                hi = (hi << 1) | (lo >>> 63);
                lo = (lo << 1) ^ reduce;
            }
        }
        int n = count * SECTOR_SIZE;
        if (encrypt) s.data.encrypt(buf, at, n); else s.data.decrypt(buf, at, n);
        xorLongs(buf, at, t, 0, n);
    }

    /** CBC decryption of {@code count} whole sectors: one engine call, then P_i = D(C_i) xor C_{i-1} (C_{-1} = the sector's IV). */
    private void cbcDecryptBatch(State s, long firstSector, byte[] buf, int at, int count) {
        int bs = s.iv.length;
        byte[] ivs = ivs(s, firstSector, count);
        byte[] c = s.batch();
        int n = count * SECTOR_SIZE;
        System.arraycopy(buf, at, c, 0, n);
        s.data.decrypt(buf, at, n);
        for (int k = 0; k < count; k++) {
            int base = k * SECTOR_SIZE;
            xor(buf, at + base, ivs, k * bs, bs);
            xor(buf, at + base + bs, c, base, SECTOR_SIZE - bs);
        }
    }

    /** a[aOff..] ^= b[bOff..] over {@code len} bytes, a multiple of 8. */
    private static void xorLongs(byte[] a, int aOff, byte[] b, int bOff, int len) {
        for (int i = 0; i < len; i += 8) LONGS.set(a, aOff + i, (long) LONGS.get(a, aOff + i) ^ (long) LONGS.get(b, bOff + i));
    }

    private void iv(State s, long sector) {
        byte[] iv = s.iv;
        Arrays.fill(iv, (byte) 0);
        int bytes = ivGenerator == IvGenerator.PLAIN ? 4 : Math.min(8, iv.length);
        for (int i = 0; i < bytes; i++) iv[i] = (byte) (sector >>> (8 * i));
        if (ivGenerator == IvGenerator.ESSIV) s.essiv.encrypt(iv, 0, iv.length);
    }

    private static void xor(byte[] a, int aOff, byte[] b, int bOff, int len) {
        int i = 0;
        for (; i + 8 <= len; i += 8) LONGS.set(a, aOff + i, (long) LONGS.get(a, aOff + i) ^ (long) LONGS.get(b, bOff + i));
        for (; i < len; i++) a[aOff + i] ^= b[bOff + i];
    }

    private void cbcEncrypt(State s, byte[] buf, int at, int n) {
        int bs = s.iv.length;
        byte[] prev = s.iv;
        int prevOff = 0;
        for (int i = 0; i < n; i += bs) {
            xor(buf, at + i, prev, prevOff, bs);
            s.data.encrypt(buf, at + i, bs);
            prev = buf;
            prevOff = at + i;
        }
    }

    private void cbcDecrypt(State s, byte[] buf, int at, int n) {
        int bs = s.iv.length;
        System.arraycopy(buf, at, s.scratch, 0, n);
        s.data.decrypt(buf, at, n);
        xor(buf, at, s.iv, 0, bs);
        xor(buf, at + bs, s.scratch, 0, n - bs);
    }

    /** IEEE P1619 XTS: T = E_k2(IV); block j: C = E_k1(P xor T_j) xor T_j, T_{j+1} = T_j * alpha in GF(2^128). */
    private void xts(State s, boolean encrypt, byte[] buf, int at, int n) {
        byte[] t = s.scratch;
        System.arraycopy(s.iv, 0, t, 0, 16);
        s.tweak.encrypt(t, 0, 16);
        for (int j = 16; j < n; j += 16) {
            int carry = 0;
            for (int i = 0; i < 16; i++) {
                int b = t[j - 16 + i] & 0xff;
                t[j + i] = (byte) ((b << 1) | carry);
                carry = b >>> 7;
            }
            if (carry != 0) t[j] ^= (byte) 0x87;
        }
        xor(buf, at, t, 0, n);
        if (encrypt) s.data.encrypt(buf, at, n); else s.data.decrypt(buf, at, n);
        xor(buf, at, t, 0, n);
    }

    /** CTR: the IV is the first counter block, incremented as one big-endian integer per block (nettle's ctr_crypt). */
    private void ctr(State s, byte[] buf, int at, int n) {
        int bs = s.iv.length;
        byte[] ks = s.scratch;
        byte[] counter = s.iv.clone();
        for (int i = 0; i < n; i += bs) {
            System.arraycopy(counter, 0, ks, i, bs);
            for (int k = bs - 1; k >= 0; k--) if (++counter[k] != 0) break;
        }
        s.data.encrypt(ks, 0, n);
        xor(buf, at, ks, 0, n);
    }

    @Override public void close() {
        closed = true;
        Arrays.fill(key, (byte) 0);
        if (essivKey != null) Arrays.fill(essivKey, (byte) 0);
        states.remove();
    }

    @Override public String toString() {
        return "SectorCipher[" + algorithm.qemuName() + "-" + mode.qemuName() + "-" + ivGenerator.qemuName() + "]";
    }
}
