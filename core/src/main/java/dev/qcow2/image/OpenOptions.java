package dev.qcow2.image;

/**
 * How to open an image. Read-only always (writing comes with its own API).
 *
 * @param followBacking  open the backing file named inside the image (and its chain). Off by
 *                       default in the library: a file name read from an untrusted image is
 *                       only followed when the caller opts in; the CLI opts in.
 * @param openDataFile   open the external data file named inside the image
 * @param l2CacheBytes   L2 cache budget; 0 = QEMU's default for the disk size (at most 32 MiB)
 * @param backingFormat  overrides the backing format recorded in (or probed from) the image; null = none
 */
public record OpenOptions(boolean followBacking, boolean openDataFile, long l2CacheBytes, String backingFormat) {

    public static final int MAX_CHAIN_DEPTH = 64;

    public static OpenOptions defaults() { return new OpenOptions(false, false, 0, null); }

    /** Follows backing and data files, as qemu-img does. */
    public static OpenOptions permissive() { return new OpenOptions(true, true, 0, null); }

    public OpenOptions withL2CacheBytes(long bytes) { return new OpenOptions(followBacking, openDataFile, bytes, backingFormat); }

    public OpenOptions withFollowBacking(boolean follow) { return new OpenOptions(follow, openDataFile, l2CacheBytes, backingFormat); }
}
