package dev.qcow2.image;

import dev.qcow2.crypto.SecretLookup;

/**
 * How to open an image. Read-only always (writing comes with its own API).
 *
 * @param followBacking  open the backing file named inside the image (and its chain). Off by
 *                       default in the library: a file name read from an untrusted image is
 *                       only followed when the caller opts in, and then only as {@code follow} allows
 * @param openDataFile   open the external data file named inside the image (as {@code follow} allows)
 * @param l2CacheBytes   L2 cache budget; 0 = QEMU's default for the disk size (at most 32 MiB)
 * @param backingFormat  overrides the backing format recorded in (or probed from) the image; null = none
 * @param forCheck       open as qemu-img check does (QEMU's BDRV_O_CHECK): problems the check
 *                       reports itself (no refcount table, a bad snapshot table pointer) do not
 *                       refuse the open
 * @param secrets        where the secrets of encrypted layers come from (never null)
 * @param metadataOnly   open as qemu-img info does (QEMU's BDRV_O_NO_IO): the header
 *                       contradictions QEMU checks only before guest I/O (a data-file bit without
 *                       its name, LUKS without its crypto header...) do not refuse the open
 * @param tolerant       evidence reading: header contradictions that would refuse the open are
 *                       ignored instead, each listed by {@link Qcow2Image#ignoredContradictions()}
 *                       (see {@link dev.qcow2.format.HeaderContradiction})
 * @param follow         which of the names read from the image may be opened ({@link FollowPolicy};
 *                       default: those inside the top image's directory tree)
 */
public record OpenOptions(boolean followBacking, boolean openDataFile, long l2CacheBytes, String backingFormat,
                          boolean forCheck, SecretLookup secrets, boolean metadataOnly, boolean tolerant,
                          FollowPolicy follow) {

    public OpenOptions {
        if (secrets == null) secrets = SecretLookup.none();
        if (follow == null) follow = FollowPolicy.imageTree();
    }

    public OpenOptions(boolean followBacking, boolean openDataFile, long l2CacheBytes, String backingFormat,
                       boolean forCheck, SecretLookup secrets, boolean metadataOnly, boolean tolerant) {
        this(followBacking, openDataFile, l2CacheBytes, backingFormat, forCheck, secrets, metadataOnly, tolerant, null);
    }

    public OpenOptions(boolean followBacking, boolean openDataFile, long l2CacheBytes, String backingFormat,
                       boolean forCheck, SecretLookup secrets) {
        this(followBacking, openDataFile, l2CacheBytes, backingFormat, forCheck, secrets, false, false);
    }

    public OpenOptions(boolean followBacking, boolean openDataFile, long l2CacheBytes, String backingFormat, boolean forCheck) {
        this(followBacking, openDataFile, l2CacheBytes, backingFormat, forCheck, SecretLookup.none());
    }

    public static final int MAX_CHAIN_DEPTH = 64;

    public static OpenOptions defaults() { return new OpenOptions(false, false, 0, null, false); }

    /**
     * Follows backing and data files as qemu-img does, but only those the {@link FollowPolicy}
     * allows (by default: inside the top image's directory tree; {@link #withFollow} to change).
     */
    public static OpenOptions permissive() { return new OpenOptions(true, true, 0, null, false); }

    /** Opens for {@code check}, following backing and data files like qemu-img check (as the policy allows). */
    public static OpenOptions forChecking() { return new OpenOptions(true, true, 0, null, true); }

    public OpenOptions withL2CacheBytes(long bytes) { return new OpenOptions(followBacking, openDataFile, bytes, backingFormat, forCheck, secrets, metadataOnly, tolerant, follow); }

    public OpenOptions withFollowBacking(boolean on) { return new OpenOptions(on, openDataFile, l2CacheBytes, backingFormat, forCheck, secrets, metadataOnly, tolerant, follow); }

    public OpenOptions withSecrets(SecretLookup lookup) { return new OpenOptions(followBacking, openDataFile, l2CacheBytes, backingFormat, forCheck, lookup, metadataOnly, tolerant, follow); }

    /** Opens as qemu-img info does (BDRV_O_NO_IO); see {@link #metadataOnly}. */
    public OpenOptions withMetadataOnly(boolean noIo) {
        return new OpenOptions(followBacking, openDataFile, l2CacheBytes, backingFormat, forCheck, secrets, noIo, tolerant, follow);
    }

    /** Reads header contradictions as evidence instead of refusing them; see {@link #tolerant}. */
    public OpenOptions withTolerant(boolean ignoreContradictions) {
        return new OpenOptions(followBacking, openDataFile, l2CacheBytes, backingFormat, forCheck, secrets, metadataOnly, ignoreContradictions, follow);
    }

    /** Which names read from the image may be opened; see {@link FollowPolicy}. */
    public OpenOptions withFollow(FollowPolicy policy) {
        return new OpenOptions(followBacking, openDataFile, l2CacheBytes, backingFormat, forCheck, secrets, metadataOnly, tolerant, policy);
    }
}
