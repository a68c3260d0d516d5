package dev.qcow2.rescue;

/**
 * How a guest cluster of the rescued image got its content, most certain first. The first three
 * are read off tables the format wrote (certain); the others are inferred from the guest's own
 * structures or from QEMU's allocation order, and the report says so.
 */
public enum Placement {
    /** An L2 entry of an L1 table (the header's, or one found by scanning), as qcow2 reads it. */
    ACTIVE_TABLES(true),
    /** An L2 entry reached through a snapshot's L1 table (the snapshot's copy of the data). */
    SNAPSHOT_TABLES(true),
    /** An L2 table no L1 references, its guest position inferred (signature anchor, host order). */
    ORPHAN_L2(false),
    /** A guest file-system signature that names its own position (MBR/GPT at 0, ext2/3/4 superblocks). */
    FS_SIGNATURE(false),
    /** Host clusters between two placed ones whose host gap equals their guest gap. */
    EQUAL_GAP(false),
    /** Host order matched to the guest clusters the file system says are in use (qemu-img convert writes in guest order). */
    ALLOCATION_ORDER(false),
    /**
     * Overlay over an intact base: a host cluster that still holds most of one base cluster's
     * sectors (QEMU copies the untouched part of a cluster from the base on a partial write).
     */
    COW_REMNANT(false),
    /** External data file: QEMU allocates a data-file cluster at its guest offset (certain only with data_file_raw; reported as inferred). */
    DATA_FILE_OFFSET(false);

    private final boolean certain;

    Placement(boolean certain) { this.certain = certain; }

    /** True when the position was read off a qcow2 table rather than inferred. */
    public boolean certain() { return certain; }

    public String label() { return name().toLowerCase().replace('_', '-'); }
}
