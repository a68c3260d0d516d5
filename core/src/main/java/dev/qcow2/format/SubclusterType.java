package dev.qcow2.format;

/** QEMU's QCow2SubclusterType: what one subcluster (or a whole standard cluster) holds. */
public enum SubclusterType {
    /** Reads from the backing file; no host cluster. */
    UNALLOCATED_PLAIN,
    /** Extended L2: the cluster has a host cluster but this subcluster is not allocated: backing. */
    UNALLOCATED_ALLOC,
    /** Reads as zeros, no host cluster. */
    ZERO_PLAIN,
    /** Reads as zeros, host cluster preallocated. */
    ZERO_ALLOC,
    /** Data at the host offset. */
    NORMAL,
    COMPRESSED,
    /** Extended L2 bitmap that breaks the rules (alloc and zero bits overlap, or alloc bits on an unallocated cluster). */
    INVALID;

    public boolean readsFromBacking() { return this == UNALLOCATED_PLAIN || this == UNALLOCATED_ALLOC; }
    public boolean isZero() { return this == ZERO_PLAIN || this == ZERO_ALLOC; }
}
