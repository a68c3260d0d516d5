package dev.qcow2.crypto;

import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.util.Arrays;

/**
 * The fuzz targets' way into the package-private LUKS unlock path (the same code
 * {@link ImageEncryption#unlock} runs), for a bare LUKS area, and the rule that keeps one fuzz
 * input fast: PBKDF2 only runs when the iterations an unlock may cost are small.
 */
public final class LuksFuzzAccess {
    private LuksFuzzAccess() { }

    /**
     * The most PBKDF2 iterations one unlock attempt may run for a fuzz input: every active slot's
     * own iterations plus the master-key digest's, which {@link LuksUnlock} derives once per slot.
     */
    public static final long MAX_UNLOCK_ITERATIONS = 20_000;

    /** Whether unlocking {@code h} stays within {@link #MAX_UNLOCK_ITERATIONS}. */
    public static boolean fastToUnlock(LuksHeader h) {
        long total = 0;
        for (LuksHeader.KeySlot s : h.slots()) {
            if (s.active()) total += s.iterations() + Math.max(1, h.masterKeyDigestIterations());
            if (total > MAX_UNLOCK_ITERATIONS) return false;
        }
        return true;
    }

    /**
     * Decodes the LUKS header at the start of {@code area} (a bare LUKS area of {@code area.size()}
     * bytes), parses its cipher spec, and when that is fast enough, tries {@code passphrase} on
     * every active slot. Returns false when it was not tried; a wrong passphrase is qemu's
     * "Invalid password" Qcow2Exception.
     */
    public static boolean unlockBareArea(Storage area, byte[] raw, byte[] passphrase) throws IOException {
        LuksHeader h = LuksHeader.decode(area.describe(), 0, area.size(), raw);
        LuksHeader.Spec spec = h.spec(area.describe());
        if (!fastToUnlock(h)) return false;
        byte[] master = LuksUnlock.masterKey(area.describe(), area, 0, h, spec, passphrase);
        Arrays.fill(master, (byte) 0);
        return true;
    }
}
