package dev.qcow2.image;

import dev.qcow2.crypto.SecretLookup;

/**
 * How to open an image. Read-only always (writing comes with its own API).
 *
 * @param followBacking  open the backing file named inside the image (and its chain). Off by
 *                       default in the library: a file name read from an untrusted image is
 *                       only followed when the caller opts in; the CLI opts in.
 * @param openDataFile   open the external data file named inside the image
 * @param l2CacheBytes   L2 cache budget; 0 = QEMU's default for the disk size (at most 32 MiB)
 * @param backingFormat  overrides the backing format recorded in (or probed from) the image; null = none
 * @param forCheck       open as qemu-img check does (QEMU's BDRV_O_CHECK): problems the check
 *                       reports itself (no refcount table, a bad snapshot table pointer) do not
 *                       refuse the open
 * @param secrets        where the secrets of encrypted layers come from (never null)
 */
public record OpenOptions(boolean followBacking, boolean openDataFile, long l2CacheBytes, String backingFormat,
                          boolean forCheck, SecretLookup secrets) {

    public OpenOptions {
        if (secrets == null) secrets = SecretLookup.none();
    }

    public OpenOptions(boolean followBacking, boolean openDataFile, long l2CacheBytes, String backingFormat, boolean forCheck) {
        this(followBacking, openDataFile, l2CacheBytes, backingFormat, forCheck, SecretLookup.none());
    }

    public static final int MAX_CHAIN_DEPTH = 64;

    public static OpenOptions defaults() { return new OpenOptions(false, false, 0, null, false); }

    /** Follows backing and data files, as qemu-img does. */
    public static OpenOptions permissive() { return new OpenOptions(true, true, 0, null, false); }

    /** Opens for {@code check}, following backing and data files like qemu-img check. */
    public static OpenOptions forChecking() { return new OpenOptions(true, true, 0, null, true); }

    public OpenOptions withL2CacheBytes(long bytes) { return new OpenOptions(followBacking, openDataFile, bytes, backingFormat, forCheck, secrets); }

    public OpenOptions withFollowBacking(boolean follow) { return new OpenOptions(follow, openDataFile, l2CacheBytes, backingFormat, forCheck, secrets); }

    public OpenOptions withSecrets(SecretLookup lookup) { return new OpenOptions(followBacking, openDataFile, l2CacheBytes, backingFormat, forCheck, lookup); }
}
