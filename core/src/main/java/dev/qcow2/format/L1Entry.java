package dev.qcow2.format;

import dev.qcow2.CorruptImageException;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.units.HostOffset;

import java.util.Optional;

/**
 * An L1 table entry (qcow2.rst "Cluster mapping"): bits 9-55 the L2 table's host offset
 * (0 = no L2 table), bit 63 COPIED (the L2 table's refcount is exactly 1), all others reserved.
 */
public record L1Entry(long raw) {
    public static final long OFFSET_MASK = 0x00ff_ffff_ffff_fe00L;   // L1E_OFFSET_MASK
    public static final long RESERVED_MASK = 0x7f00_0000_0000_01ffL; // L1E_RESERVED_MASK
    public static final long COPIED = 1L << 63;

    /** Host offset of the L2 table; may be unaligned in a corrupt image (bits 0-8 are masked off). */
    public long l2Offset() { return raw & OFFSET_MASK; }

    public boolean allocated() { return l2Offset() != 0; }

    /** The L2 table's typed host offset, or empty when this entry has no L2 table. */
    public Optional<HostOffset> l2Table() { return allocated() ? Optional.of(new HostOffset(l2Offset())) : Optional.empty(); }

    public boolean copied() { return (raw & COPIED) != 0; }

    public long reservedBits() { return raw & RESERVED_MASK; }

    /**
     * The L2 table offset of L1 entry {@code raw} (number {@code index}, stored at
     * {@code entryFileOffset}), 0 when it names none. An offset that is not cluster-aligned is
     * corruption, as QEMU refuses it before loading the table (l2_load's callers,
     * qcow2_get_host_offset): the one place that rule is written, for the read path, the walks
     * that change tables (snapshots, amend) and their messages.
     */
    public static long checkedL2Offset(String resource, ClusterGeometry geo, int index, long entryFileOffset, long raw)
            throws CorruptImageException {
        long l2Offset = raw & OFFSET_MASK;
        if (l2Offset != 0 && !geo.isClusterAligned(l2Offset)) {
            throw new CorruptImageException(resource, "L1 table", entryFileOffset, raw, "L2 table offset 0x"
                    + Long.toHexString(l2Offset) + " unaligned (L1 index: 0x" + Integer.toHexString(index) + ")");
        }
        return l2Offset;
    }

    /** The empty entry: no L2 table. */
    public static final L1Entry UNALLOCATED = new L1Entry(0);

    /**
     * The entry naming the L2 table at {@code l2Offset} (cluster-aligned, below 2^56; 0 for none),
     * with COPIED when its refcount is exactly 1: the inverse of {@link #l2Offset()} and {@link #copied()}.
     */
    public static L1Entry of(long l2Offset, boolean copied) {
        if ((l2Offset & ~OFFSET_MASK) != 0) {
            throw new IllegalArgumentException("L2 table offset 0x" + Long.toHexString(l2Offset) + " is not 512-aligned below 2^56");
        }
        return new L1Entry(l2Offset | (copied ? COPIED : 0));
    }

    /** This entry with COPIED set or cleared, every other bit kept. */
    public L1Entry withCopied(boolean copied) {
        return new L1Entry(copied ? raw | COPIED : raw & ~COPIED);
    }
}
