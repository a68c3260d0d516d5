package dev.qcow2.crypto;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Recovers the master key of a LUKS1 volume (QEMU's qcrypto_block_luks_find_key / load_key):
 * for each active slot, PBKDF2(hash, passphrase, slot salt, slot iterations) is the key that
 * decrypts the slot's split key material (its own sectors numbered from 0, the volume's
 * cipher and IV generator); anti-forensic merge gives a candidate master key, accepted when
 * PBKDF2(hash, candidate, digest salt, digest iterations, 20) equals the header's digest.
 */
final class LuksUnlock {
    private LuksUnlock() { }

    static final String WRONG_PASSWORD = "Invalid password, cannot unlock any keyslot";

    /** The master key (caller zeroes it), or qemu's "Invalid password" refusal. */
    static byte[] masterKey(String resource, Storage storage, long areaOffset, LuksHeader header, LuksHeader.Spec spec,
                            byte[] passphrase) throws IOException {
        for (int i = 0; i < LuksHeader.SLOT_COUNT; i++) {
            LuksHeader.KeySlot slot = header.slots().get(i);
            if (!slot.active()) continue;
            byte[] key = tryslot(storage, areaOffset, header, spec, slot, passphrase);
            if (key != null) return key;
        }
        throw new Qcow2Exception(resource, WRONG_PASSWORD);
    }

    /** Which slot {@code passphrase} opens, or -1. */
    static int slotOf(Storage storage, long areaOffset, LuksHeader header, LuksHeader.Spec spec, byte[] passphrase) throws IOException {
        for (int i = 0; i < LuksHeader.SLOT_COUNT; i++) {
            LuksHeader.KeySlot slot = header.slots().get(i);
            if (!slot.active()) continue;
            byte[] key = tryslot(storage, areaOffset, header, spec, slot, passphrase);
            if (key != null) {
                Arrays.fill(key, (byte) 0);
                return i;
            }
        }
        return -1;
    }

    private static byte[] tryslot(Storage storage, long areaOffset, LuksHeader header, LuksHeader.Spec spec,
                                  LuksHeader.KeySlot slot, byte[] passphrase) throws IOException {
        int keyBytes = header.keyBytes();
        byte[] slotKey = Pbkdf2.derive(spec.hash(), passphrase, slot.salt(), slot.iterations(), keyBytes);
        byte[] split = new byte[header.splitKeyLength()];
        byte[] candidate = null;
        byte[] digest = null;
        try {
            storage.readFully(areaOffset + slot.keyOffset(), ByteBuffer.wrap(split));
            try (SectorCipher c = spec.cipher(slotKey, false)) {
                c.decryptSectors(0, split, 0, split.length);
            }
            candidate = AntiForensic.merge(spec.hash(), keyBytes, LuksHeader.STRIPES, split);
            digest = Pbkdf2.derive(spec.hash(), candidate, header.masterKeyDigestSalt(),
                    Math.max(1, header.masterKeyDigestIterations()), LuksHeader.DIGEST_LENGTH);
            if (MessageDigest.isEqual(digest, header.masterKeyDigest())) {
                byte[] found = candidate;
                candidate = null;
                return found;
            }
            return null;
        } finally {
            Arrays.fill(slotKey, (byte) 0);
            Arrays.fill(split, (byte) 0);
            if (candidate != null) Arrays.fill(candidate, (byte) 0);
            if (digest != null) Arrays.fill(digest, (byte) 0);
        }
    }
}
