package dev.qcow2.mapping;

import dev.qcow2.units.HostOffset;

/**
 * The L1 table a {@link ClusterMapper} translates through: where it lies in the file (so a
 * damaged entry is reported at its file offset) and its entries. A read-only image's table is
 * fixed; the writer's table changes in place and moves when it grows, so the mapper asks for
 * both on every lookup.
 */
public interface L1Table {
    HostOffset offset();

    /** The entries in force (the caller must not change them). */
    long[] entries();

    /** The file offset of entry {@code index}. */
    default HostOffset entryOffset(int index) { return offset().plus(8L * index); }

    /** A table that does not change: the active table of a read-only image, or a snapshot's. */
    static L1Table fixed(HostOffset offset, long[] entries) {
        return new L1Table() {
            @Override public HostOffset offset() { return offset; }
            @Override public long[] entries() { return entries; }
        };
    }
}
