package dev.qcow2.crypto;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * Writes a new LUKS1 volume header as QEMU 7.2's qcrypto_block_luks_create does: random master
 * key, salts and UUID; key slot i at 4 KiB + i × (split key sectors rounded to 4 KiB); payload
 * right after the eighth slot; master-key digest iterations = PBKDF2 rate × iter-time / 8
 * (at least 1000); slot 0 holds the passphrase with rate × iter-time iterations (at least 1000),
 * its key material the anti-forensic split of the master key encrypted under the slot key.
 */
public final class LuksFormatter {
    private LuksFormatter() { }

    static final long MIN_MASTER_KEY_ITERS = 1000;
    static final long MIN_SLOT_KEY_ITERS = 1000;

    /** The bytes of a new LUKS area and the master key's cipher. */
    public record Volume(byte[] area, LuksHeader header) { }

    /** The area length a new volume with {@code spec} takes (QEMU's payload offset in bytes). */
    public static long areaLength(LuksHeader.Spec spec) {
        return payloadSectors(spec) * LuksHeader.SECTOR_SIZE;
    }

    private static long splitKeySectors(LuksHeader.Spec spec) {
        long sectors = ((long) spec.keyBytes() * LuksHeader.STRIPES + LuksHeader.SECTOR_SIZE - 1) / LuksHeader.SECTOR_SIZE;
        long align = LuksHeader.SLOT_ALIGNMENT / LuksHeader.SECTOR_SIZE;
        return (sectors + align - 1) / align * align;
    }

    private static long payloadSectors(LuksHeader.Spec spec) {
        return LuksHeader.SLOT_ALIGNMENT / LuksHeader.SECTOR_SIZE + LuksHeader.SLOT_COUNT * splitKeySectors(spec);
    }

    /**
     * A new volume unlocked by {@code passphrase} in slot 0.
     *
     * @param iterTimeMillis encrypt.iter-time (QEMU's default 2000)
     */
    public static Volume format(LuksHeader.Spec spec, byte[] passphrase, long iterTimeMillis, SecureRandom random) {
        if ((long) spec.keyBytes() * LuksHeader.STRIPES % LuksHeader.SECTOR_SIZE != 0) {
            // QEMU 7.2 aborts on these (do_qcrypto_block_cipher_encdec asserts whole sectors)
            throw new IllegalArgumentException("LUKS key material of " + spec.cipher().qemuName() + "-" + spec.mode().qemuName()
                    + " (" + (spec.keyBytes() * LuksHeader.STRIPES) + " bytes) is not a whole number of sectors; QEMU 7.2 cannot use it");
        }
        int keyBytes = spec.keyBytes();
        byte[] masterKey = new byte[keyBytes];
        byte[] slotKey = null;
        byte[] material = null;
        try {
            random.nextBytes(masterKey);
            byte[] digestSalt = new byte[LuksHeader.SALT_LENGTH];
            random.nextBytes(digestSalt);
            long mkRate = Pbkdf2.iterationsPerSecond(spec.hash(), masterKey, digestSalt, LuksHeader.DIGEST_LENGTH);
            long mkIters = Math.max(MIN_MASTER_KEY_ITERS, scale(mkRate, iterTimeMillis) / 8);
            byte[] digest = Pbkdf2.derive(spec.hash(), masterKey, digestSalt, mkIters, LuksHeader.DIGEST_LENGTH);

            long split = splitKeySectors(spec);
            List<LuksHeader.KeySlot> slots = new ArrayList<>();
            byte[] slotSalt = new byte[LuksHeader.SALT_LENGTH];
            random.nextBytes(slotSalt);
            long slotRate = Pbkdf2.iterationsPerSecond(spec.hash(), passphrase, slotSalt, keyBytes);
            long slotIters = Math.max(MIN_SLOT_KEY_ITERS, scale(slotRate, iterTimeMillis));
            for (int i = 0; i < LuksHeader.SLOT_COUNT; i++) {
                long offset = LuksHeader.SLOT_ALIGNMENT / LuksHeader.SECTOR_SIZE + split * i;
                slots.add(i == 0 ? new LuksHeader.KeySlot(true, slotIters, slotSalt, offset, LuksHeader.STRIPES)
                        : new LuksHeader.KeySlot(false, 0, new byte[LuksHeader.SALT_LENGTH], offset, LuksHeader.STRIPES));
            }
            LuksHeader header = new LuksHeader(spec.cipher().luksName(), spec.modeString(), spec.hash().qemuName(),
                    payloadSectors(spec), keyBytes, digest, digestSalt, mkIters, UUID.randomUUID().toString(), List.copyOf(slots));

            byte[] area = new byte[(int) areaLength(spec)];
            System.arraycopy(header.encode(), 0, area, 0, LuksHeader.LENGTH);
            slotKey = Pbkdf2.derive(spec.hash(), passphrase, slotSalt, slotIters, keyBytes);
            material = AntiForensic.split(spec.hash(), LuksHeader.STRIPES, masterKey, random);
            try (SectorCipher c = spec.cipher(slotKey, false)) {
                c.encryptSectors(0, material, 0, material.length);
            }
            System.arraycopy(material, 0, area, (int) slots.get(0).keyOffset(), material.length);
            return new Volume(area, header);
        } finally {
            Arrays.fill(masterKey, (byte) 0);
            if (slotKey != null) Arrays.fill(slotKey, (byte) 0);
            if (material != null) Arrays.fill(material, (byte) 0);
        }
    }

    private static long scale(long perSecond, long millis) {
        if (millis > 0 && perSecond > Long.MAX_VALUE / millis) throw new IllegalArgumentException("PBKDF iterations " + perSecond + " too large to scale");
        long iters = perSecond * millis / 1000;
        if (iters > 0xFFFFFFFFL) throw new IllegalArgumentException("PBKDF iterations " + iters + " larger than " + 0xFFFFFFFFL);
        return iters;
    }
}
