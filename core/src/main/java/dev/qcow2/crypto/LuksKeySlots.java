package dev.qcow2.crypto;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.storage.WritableStorage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Key-slot amendment of a LUKS volume inside qcow2, as QEMU 7.2's qcrypto_block_luks_amend_options
 * (amend_add_keyslot / amend_erase_keyslots) with its messages. Crash-safe order as QEMU's:
 * adding writes the slot's key material first and activates the slot in the header after it;
 * erasing deactivates the slot in the header first, then overwrites the material with random
 * bytes (QCRYPTO_BLOCK_LUKS_ERASE_ITERATIONS times).
 */
public final class LuksKeySlots {
    private LuksKeySlots() { }

    static final int ERASE_ITERATIONS = 16;

    /**
     * @param keySecret the image's passphrase (encrypt.key-secret: QEMU opens the image with it first)
     */
    public static void amend(String res, WritableStorage file, Qcow2Header header, Secret keySecret, KeySlotChange change,
                             SecretObjects secrets, SecureRandom random) throws IOException {
        if (header.cryptMethod() != Qcow2Header.CRYPT_LUKS) {
            throw new Qcow2Exception(res, header.cryptMethod() == Qcow2Header.CRYPT_NONE
                    ? "Can't amend encryption options - encryption not present" : "Only LUKS encryption options can be amended");
        }
        if (keySecret == null) throw new Qcow2Exception(res, "Parameter 'encrypt.key-secret' is required for cipher");
        if (change.active() == null) throw new Qcow2Exception(res, "Parameter 'state' is missing");
        ImageEncryption.LuksArea area = ImageEncryption.luksArea(res, file, header);
        LuksHeader luks = area.header();
        LuksHeader.Spec spec = luks.spec(res);
        if (change.keyslot() != null && (change.keyslot() < 0 || change.keyslot() >= LuksHeader.SLOT_COUNT)) {
            throw new Qcow2Exception(res, "Invalid keyslot " + change.keyslot() + " specified, must be between 0 and " + (LuksHeader.SLOT_COUNT - 1));
        }
        byte[] passphrase = keySecret.bytes();
        byte[] master = null;
        try {
            master = LuksUnlock.masterKey(res, file, area.offset(), luks, spec, passphrase);
            if (change.active()) add(res, file, area, spec, master, change, secrets, random);
            else erase(res, file, area, spec, change, secrets, random);
        } finally {
            Arrays.fill(passphrase, (byte) 0);
            if (master != null) Arrays.fill(master, (byte) 0);
        }
    }

    private static void add(String res, WritableStorage file, ImageEncryption.LuksArea area, LuksHeader.Spec spec, byte[] master,
                            KeySlotChange change, SecretObjects secrets, SecureRandom random) throws IOException {
        if (change.newSecretId() == null) throw new Qcow2Exception(res, "'new-secret' is required to activate a keyslot");
        if (change.oldSecretId() != null) throw new Qcow2Exception(res, "'old-secret' must not be given when activating keyslots");
        LuksHeader luks = area.header();
        int slot;
        if (change.keyslot() != null) {
            slot = change.keyslot();
            if (luks.slots().get(slot).active()) {
                throw new Qcow2Exception(res, "Refusing to overwrite active keyslot " + slot + " - please erase it first");
            }
        } else {
            slot = -1;
            for (int i = 0; i < LuksHeader.SLOT_COUNT && slot < 0; i++) if (!luks.slots().get(i).active()) slot = i;
            if (slot < 0) throw new Qcow2Exception(res, "Can't add a keyslot - all keyslots are in use");
        }
        Secret newSecret = secret(res, secrets, change.newSecretId());
        byte[] password = newSecret.bytes();
        byte[] slotKey = null;
        byte[] material = null;
        try {
            byte[] salt = new byte[LuksHeader.SALT_LENGTH];
            random.nextBytes(salt);
            long iterTime = change.iterTimeMs() != null ? change.iterTimeMs() : 2000;
            long rate = Pbkdf2.iterationsPerSecond(spec.hash(), password, salt, luks.keyBytes());
            long iters = Math.max(LuksFormatter.MIN_SLOT_KEY_ITERS, rate * iterTime / 1000);
            if (iters > 0xFFFFFFFFL) throw new Qcow2Exception(res, "PBKDF iterations " + iters + " larger than " + 0xFFFFFFFFL);
            slotKey = Pbkdf2.derive(spec.hash(), password, salt, iters, luks.keyBytes());
            material = AntiForensic.split(spec.hash(), LuksHeader.STRIPES, master, random);
            try (SectorCipher c = spec.cipher(slotKey, false)) {
                c.encryptSectors(0, material, 0, material.length);
            }
            LuksHeader.KeySlot old = luks.slots().get(slot);
            // qcrypto_block_luks_store_key: key material, flushed, then the header naming it
            file.write(area.offset() + old.keyOffset(), material);
            file.flush();
            LuksHeader updated = luks.withSlot(slot, new LuksHeader.KeySlot(true, iters, salt, old.keyOffsetSector(), old.stripes()));
            file.write(area.offset(), updated.encode());
            file.flush();
        } finally {
            Arrays.fill(password, (byte) 0);
            if (slotKey != null) Arrays.fill(slotKey, (byte) 0);
            if (material != null) Arrays.fill(material, (byte) 0);
        }
    }

    private static void erase(String res, WritableStorage file, ImageEncryption.LuksArea area, LuksHeader.Spec spec,
                              KeySlotChange change, SecretObjects secrets, SecureRandom random) throws IOException {
        if (change.newSecretId() != null) throw new Qcow2Exception(res, "'new-secret' must not be given when erasing keyslots");
        if (change.iterTimeMs() != null) throw new Qcow2Exception(res, "'iter-time' must not be given when erasing keyslots");
        LuksHeader luks = area.header();
        int activeCount = 0;
        for (LuksHeader.KeySlot s : luks.slots()) if (s.active()) activeCount++;
        List<Integer> erase = new ArrayList<>();
        if (change.keyslot() != null) {
            int slot = change.keyslot();
            if (!luks.slots().get(slot).active()) {
                throw new Qcow2Exception(res, "Given keyslot " + slot + " is already erased (inactive) ");
            }
            if (change.oldSecretId() != null) {
                byte[] old = secret(res, secrets, change.oldSecretId()).bytes();
                try {
                    if (!LuksUnlock.opens(file, area.offset(), luks, spec, slot, old)) {
                        throw new Qcow2Exception(res, "Given keyslot " + slot + " doesn't contain the given old password for erase operation");
                    }
                } finally {
                    Arrays.fill(old, (byte) 0);
                }
            }
            if (activeCount == 1) {
                throw new Qcow2Exception(res, "Attempt to erase the only active keyslot " + slot
                        + " which will erase all the data in the image irreversibly - refusing operation");
            }
            erase.add(slot);
        } else if (change.oldSecretId() != null) {
            byte[] old = secret(res, secrets, change.oldSecretId()).bytes();
            try {
                for (int i = 0; i < LuksHeader.SLOT_COUNT; i++) {
                    if (luks.slots().get(i).active() && LuksUnlock.opens(file, area.offset(), luks, spec, i, old)) erase.add(i);
                }
            } finally {
                Arrays.fill(old, (byte) 0);
            }
            if (erase.isEmpty()) throw new Qcow2Exception(res, "No keyslots match given (old) password for erase operation");
            if (erase.size() == activeCount) {
                throw new Qcow2Exception(res, "All the active keyslots match the (old) password that was given and erasing them "
                        + "will erase all the data in the image irreversibly - refusing operation");
            }
        } else {
            throw new Qcow2Exception(res, "To erase keyslot(s), either explicit keyslot index or the password currently "
                    + "contained in them must be given");
        }
        for (int slot : erase) {
            LuksHeader.KeySlot old = luks.slots().get(slot);
            // qcrypto_block_luks_erase_key: the header first (salt zeroed, no iterations, disabled) ...
            luks = luks.withSlot(slot, new LuksHeader.KeySlot(false, 0, new byte[LuksHeader.SALT_LENGTH], old.keyOffsetSector(), old.stripes()));
            file.write(area.offset(), luks.encode());
            file.flush();
            // ... then the key material overwritten with random bytes
            byte[] garbage = new byte[luks.splitKeyLength()];
            for (int i = 0; i < ERASE_ITERATIONS; i++) {
                random.nextBytes(garbage);
                file.write(area.offset() + old.keyOffset(), garbage);
                file.flush();
            }
        }
    }

    private static Secret secret(String res, SecretObjects secrets, String id) throws Qcow2Exception {
        return secrets.byId(id).orElseThrow(() -> new Qcow2Exception(res, "No secret with id '" + id + "'"));
    }
}
