package dev.qcow2.format;

/**
 * A refcount table entry (qcow2.rst "Host cluster management"): bits 9-63 the refcount block's
 * host offset (0 = no block: every cluster it would cover has refcount 0), bits 0-8 reserved.
 */
public record ReftableEntry(long raw) {
    public static final long OFFSET_MASK = 0xffff_ffff_ffff_fe00L;   // REFT_OFFSET_MASK
    public static final long RESERVED_MASK = 0x1ffL;                 // REFT_RESERVED_MASK

    /** The refcount block's host offset; may be unaligned in a corrupt image (bits 0-8 are masked off). */
    public long refblockOffset() { return raw & OFFSET_MASK; }

    public boolean allocated() { return refblockOffset() != 0; }

    public long reservedBits() { return raw & RESERVED_MASK; }

    /** The entry naming the refcount block at {@code refblockOffset} (512-aligned; 0 for none): the inverse of {@link #refblockOffset()}. */
    public static ReftableEntry of(long refblockOffset) {
        if ((refblockOffset & RESERVED_MASK) != 0) {
            throw new IllegalArgumentException("refcount block offset 0x" + Long.toHexString(refblockOffset) + " is not 512-aligned");
        }
        return new ReftableEntry(refblockOffset);
    }
}
