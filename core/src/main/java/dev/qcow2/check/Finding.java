package dev.qcow2.check;

/**
 * One problem found by {@link ImageChecker}: its class ({@link Type}), the structure it
 * concerns, where (host offset and cluster index, -1 when not applicable) and the message
 * {@code qemu-img check} prints for it on stderr.
 */
public record Finding(Type type, String structure, long hostOffset, long cluster, String message) {

    /** Which of qemu-img's counters a finding adds to. */
    public enum Counter { CORRUPTION, LEAK, CHECK_ERROR }

    /**
     * Every class of problem {@code qemu-img check} detects (qcow2-format.md §3, rows 1-33), with
     * the counter it increments.
     */
    public enum Type {
        REGION_PAST_EOF(Counter.CORRUPTION),
        REFCOUNT_OVERFLOW(Counter.CORRUPTION),
        L1_RESERVED_BITS(Counter.CORRUPTION),
        L2_TABLE_UNALIGNED(Counter.CORRUPTION),
        L2_RESERVED_BITS(Counter.CORRUPTION),
        COMPRESSED_COPIED(Counter.CORRUPTION),
        COMPRESSED_WITH_DATA_FILE(Counter.CORRUPTION),
        COMPRESSED_WITH_SUBCLUSTER_BITMAP(Counter.CORRUPTION),
        SUBCLUSTER_BITMAP_CORRUPT(Counter.CORRUPTION),
        DATA_CLUSTER_UNALIGNED(Counter.CORRUPTION),
        PREALLOCATED_ZERO_UNALIGNED(Counter.CORRUPTION),
        UNALLOCATED_WITH_SUBCLUSTER_ALLOC(Counter.CORRUPTION),
        SNAPSHOTS_WITH_DATA_FILE(Counter.CORRUPTION),
        SNAPSHOT_L1_UNALIGNED(Counter.CORRUPTION),
        SNAPSHOT_L1_TOO_LARGE(Counter.CORRUPTION),
        REFTABLE_RESERVED_BITS(Counter.CORRUPTION),
        REFBLOCK_UNALIGNED(Counter.CORRUPTION),
        REFBLOCK_OUTSIDE_IMAGE(Counter.CORRUPTION),
        REFBLOCK_SHARED(Counter.CORRUPTION),
        LEAKED_CLUSTER(Counter.LEAK),
        REFCOUNT_TOO_LOW(Counter.CORRUPTION),
        REFCOUNT_UNREADABLE(Counter.CHECK_ERROR),
        L1_OFLAG_COPIED(Counter.CORRUPTION),
        L2_OFLAG_COPIED(Counter.CORRUPTION),
        SNAPSHOT_TABLE_INVALID(Counter.CHECK_ERROR),
        SNAPSHOT_TABLE_UNREADABLE(Counter.CHECK_ERROR),
        SNAPSHOT_ENTRY_INCOMPLETE(Counter.CORRUPTION),
        /** check -r all only: entries off the end of an oversized table dropped (nb_snapshots lowered). */
        SNAPSHOTS_DISCARDED(Counter.CORRUPTION),
        /** check -r all only: an entry's extra data beyond 1024 bytes dropped (table rewritten). */
        SNAPSHOT_EXTRA_DATA_DROPPED(Counter.CORRUPTION),
        BITMAP_DIRECTORY_INVALID(Counter.CORRUPTION),
        BITMAP_TABLE_INVALID(Counter.CORRUPTION),
        IO_ERROR(Counter.CHECK_ERROR);

        private final Counter counter;

        Type(Counter counter) { this.counter = counter; }

        public Counter counter() { return counter; }

        /** The JSON spelling: lower case with dashes. */
        public String jsonName() { return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'); }
    }
}
