package dev.qcow2.rescue;

/**
 * Why a carved host cluster counts as unreferenced (no live table of the image points at it),
 * by what the on-disk refcounts say about it (read as QEMU's qcow2_get_refcount, never rebuilt).
 */
public enum CarveStatus {
    /** Refcount above 0 but no table references it: leaked (a crash, an interrupted COW, a bug). */
    LEAKED,
    /** Refcount 0 and not all zeros: freed by QEMU (snapshot delete, discard, COW) but not overwritten yet. */
    FREE,
    /**
     * No refcount: past the clusters the refcount table covers, or under a refcount table entry
     * that is damaged (unaligned), or the refcount table itself could not be read.
     */
    UNCOVERED;

    public String label() { return name().toLowerCase(); }
}
