package dev.qcow2.refcount;

/**
 * What is wrong with one refcount table entry, and where (qcow2.rst "Host cluster management":
 * bits 0-8 reserved, bits 9-63 a cluster-aligned refcount block offset inside the file).
 *
 * @param index           the reftable index
 * @param entryFileOffset file offset of the 8-byte reftable entry
 * @param raw             the entry as stored
 * @param reason          the rule it breaks
 */
public record ReftableDamage(int index, long entryFileOffset, long raw, Reason reason) {
    /** The rules, in the order QEMU's check_refblocks tests them. */
    public enum Reason {
        /** Bits 0-8 set: QEMU masks them off when reading (REFT_RESERVED_MASK). */
        RESERVED_BITS,
        /** The refcount block offset is not cluster aligned: qcow2_get_refcount fails with -EIO. */
        UNALIGNED,
        /** The refcount block starts at or past the end of the file: it reads as zeros. */
        PAST_END_OF_FILE
    }

    /** The refcount block offset named by the entry (reserved bits masked off). */
    public long refblockOffset() { return raw & dev.qcow2.format.ReftableEntry.OFFSET_MASK; }

    public String describe() {
        String block = "0x" + Long.toHexString(refblockOffset());
        String where = " (reftable index: 0x" + Integer.toHexString(index) + ")";
        return switch (reason) {
            case RESERVED_BITS -> "reserved bits 0x" + Long.toHexString(raw & dev.qcow2.format.ReftableEntry.RESERVED_MASK)
                    + " set" + where;
            case UNALIGNED -> "Refblock offset " + block + " unaligned" + where;
            case PAST_END_OF_FILE -> "Refblock offset " + block + " is past the end of the file" + where;
        };
    }
}
