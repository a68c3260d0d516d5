package dev.qcow2.format;

import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.units.HostOffset;

/**
 * A decoded L2 table entry (qcow2.rst "Cluster mapping", "Extended L2 Entries"): QEMU's cluster
 * types as a sealed family. {@code raw} is the 64-bit descriptor word; {@code bitmap} the
 * extended-L2 subcluster bitmap (0 for standard entries). Decoding never fails: invalid
 * combinations are visible through {@link #reservedBits()} and {@link #subcluster(int)} so that
 * {@code check} can report them, while the read path refuses them.
 */
public sealed interface L2Entry {
    long OFFSET_MASK = 0x00ff_ffff_ffff_fe00L;          // L2E_OFFSET_MASK
    long STD_RESERVED_MASK = 0x3f00_0000_0000_01feL;   // L2E_STD_RESERVED_MASK
    long COPIED = 1L << 63;
    long COMPRESSED = 1L << 62;
    long ZERO = 1L;
    long BITMAP_ALL_ALLOC = 0xffff_ffffL;
    long BITMAP_ALL_ZERO = 0xffff_ffff_0000_0000L;

    long raw();

    long bitmap();

    /** The type of subcluster {@code index} (0 for standard entries), as QEMU's qcow2_get_subcluster_type. */
    SubclusterType subcluster(int index);

    /** Reserved bits that are set (only standard descriptors have a reserved mask checked by QEMU). */
    default long reservedBits() { return 0; }

    /** No host cluster. With extended L2 some subclusters may read as zero (bits 32-63). */
    record Unallocated(long raw, long bitmap, boolean extended) implements L2Entry {
        public SubclusterType subcluster(int index) {
            if (!extended) return SubclusterType.UNALLOCATED_PLAIN;
            if ((bitmap & BITMAP_ALL_ALLOC) != 0) return SubclusterType.INVALID;
            return (bitmap & (1L << (index + 32))) != 0 ? SubclusterType.ZERO_PLAIN : SubclusterType.UNALLOCATED_PLAIN;
        }
        public long reservedBits() { return raw & STD_RESERVED_MASK; }
    }

    /** Standard entry with the zero flag (v3): reads zeros; {@code hostOffset} 0 unless preallocated. */
    record Zero(long raw, long hostOffset, boolean copied) implements L2Entry {
        public long bitmap() { return 0; }
        public boolean preallocated() { return hostOffset != 0; }
        public java.util.Optional<HostOffset> host() {
            return preallocated() ? java.util.Optional.of(new HostOffset(hostOffset)) : java.util.Optional.empty();
        }
        public SubclusterType subcluster(int index) {
            return preallocated() ? SubclusterType.ZERO_ALLOC : SubclusterType.ZERO_PLAIN;
        }
        public long reservedBits() { return raw & STD_RESERVED_MASK; }
    }

    /** Data in a host cluster; with extended L2 only the subclusters whose alloc bit is set. */
    record Normal(long raw, long bitmap, long hostOffset, boolean copied, boolean extended) implements L2Entry {
        public HostOffset host() { return new HostOffset(hostOffset); }
        public SubclusterType subcluster(int index) {
            if (!extended) return SubclusterType.NORMAL;
            if (((bitmap >>> 32) & bitmap) != 0) return SubclusterType.INVALID;
            if ((bitmap & (1L << (index + 32))) != 0) return SubclusterType.ZERO_ALLOC;
            if ((bitmap & (1L << index)) != 0) return SubclusterType.NORMAL;
            return SubclusterType.UNALLOCATED_ALLOC;
        }
        public long reservedBits() { return raw & STD_RESERVED_MASK; }
    }

    /**
     * A compressed cluster. With x = 62 - (cluster_bits - 8): bits 0..x-1 the host byte offset,
     * bits x..61 the number of additional 512-byte sectors; the payload is
     * {@code sectors*512 - (hostOffset & 511)} bytes and may run into the next host cluster.
     */
    record Compressed(long raw, long bitmap, long hostOffset, int sectors, boolean copied) implements L2Entry {
        public SubclusterType subcluster(int index) { return SubclusterType.COMPRESSED; }
        /** Where the compressed bytes start (not cluster-aligned). */
        public HostOffset host() { return new HostOffset(hostOffset); }
        /** Bytes to read starting at hostOffset (QEMU's qcow2_parse_compressed_l2_entry). */
        public int compressedLength() { return sectors * 512 - (int) (hostOffset & 511); }
        /** Host clusters the payload touches, first to last inclusive: [first, last]. */
        public long firstHostByte() { return hostOffset; }
        public long lastHostByte() { return (hostOffset & ~511L) + (long) sectors * 512 - 1; }
    }

    /**
     * The descriptor word of {@code e} computed from its decoded fields (not copied from
     * {@link #raw()}): the inverse of {@link #decode} for every valid entry, i.e. one without
     * reserved bits. Unallocated: 0; zero: host offset, ZERO, COPIED; normal: host offset,
     * COPIED; compressed: COMPRESSED, the additional sectors at bit x = 62 - (cluster_bits - 8),
     * the host byte offset below x (QEMU's qcow2_alloc_compressed_cluster_offset).
     */
    static long encode(L2Entry e, ClusterGeometry geo) {
        return switch (e) {
            case Unallocated u -> 0;
            case Zero z -> offsetBits(z.hostOffset()) | ZERO | (z.copied() ? COPIED : 0);
            case Normal n -> offsetBits(n.hostOffset()) | (n.copied() ? COPIED : 0);
            case Compressed c -> {
                int x = compressedOffsetBits(geo);
                long sectorField = c.sectors() - 1L;
                if (c.hostOffset() < 0 || c.hostOffset() >>> x != 0 || sectorField < 0 || sectorField >>> (geo.clusterBits() - 8) != 0) {
                    throw new IllegalArgumentException("compressed cluster at 0x" + Long.toHexString(c.hostOffset())
                            + " of " + c.sectors() + " sectors does not fit a descriptor for " + geo.clusterSize() + "-byte clusters");
                }
                yield COMPRESSED | (sectorField << x) | c.hostOffset() | (c.copied() ? COPIED : 0);
            }
        };
    }

    private static long offsetBits(long hostOffset) {
        if ((hostOffset & ~OFFSET_MASK) != 0) {
            throw new IllegalArgumentException("host offset 0x" + Long.toHexString(hostOffset) + " is not 512-aligned below 2^56");
        }
        return hostOffset;
    }

    /** x = 62 - (cluster_bits - 8): bits 0..x-1 of a compressed descriptor hold the host byte offset. */
    static int compressedOffsetBits(ClusterGeometry geo) {
        return 62 - (geo.clusterBits() - 8);
    }

    /** Unallocated (reads the backing file); with extended L2, {@code bitmap} may mark subclusters zero (bits 32-63). */
    static Unallocated unallocated(long bitmap, ClusterGeometry geo) {
        return new Unallocated(0, geo.extendedL2() ? bitmap : 0, geo.extendedL2());
    }

    /** Standard zero cluster (version 3, not extended L2): {@code hostOffset} 0 or a preallocated cluster. */
    static Zero zero(long hostOffset, boolean copied) {
        return new Zero(offsetBits(hostOffset) | ZERO | (copied ? COPIED : 0), hostOffset, copied);
    }

    /** Data at {@code hostOffset}; with extended L2, {@code bitmap} says which subclusters are allocated or zero. */
    static Normal normal(long hostOffset, boolean copied, long bitmap, ClusterGeometry geo) {
        return new Normal(offsetBits(hostOffset) | (copied ? COPIED : 0), geo.extendedL2() ? bitmap : 0, hostOffset,
                copied, geo.extendedL2());
    }

    /** A compressed cluster whose payload starts at byte {@code hostOffset} and touches {@code sectors} 512-byte sectors. */
    static Compressed compressed(long hostOffset, int sectors, ClusterGeometry geo) {
        Compressed c = new Compressed(0, 0, hostOffset, sectors, false);
        return new Compressed(encode(c, geo), 0, hostOffset, sectors, false);
    }

    /** 512-byte sectors touched by {@code bytes} bytes starting at host byte {@code hostOffset} (at least 1). */
    static int sectorsSpanned(long hostOffset, int bytes) {
        return (int) (((hostOffset + Math.max(bytes, 1) - 1) >>> 9) - (hostOffset >>> 9) + 1);
    }

    /**
     * The entry as stored in its L2 table slot: the descriptor (from {@link #encode}), then with
     * extended L2 the bitmap; big-endian, 8 or 16 bytes, ready to write.
     */
    static java.nio.ByteBuffer slotBytes(L2Entry e, ClusterGeometry geo) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(geo.extendedL2() ? 16 : 8).putLong(encode(e, geo));
        if (geo.extendedL2()) b.putLong(e.bitmap());
        return b.flip();
    }

    /** Extended L2 bitmap: allocation bits 0-31, zero bits 32-63 (one per subcluster). */
    static long bitmap(int allocated, int zero) {
        return ((long) zero << 32) | Integer.toUnsignedLong(allocated);
    }

    /** The allocation bits (0-31) of an extended L2 bitmap. */
    static int allocatedBits(long bitmap) { return (int) bitmap; }

    /** The zero bits (32-63) of an extended L2 bitmap. */
    static int zeroBits(long bitmap) { return (int) (bitmap >>> 32); }

    static L2Entry decode(long raw, long bitmap, ClusterGeometry geo, boolean externalDataFile) {
        boolean extended = geo.extendedL2();
        if ((raw & COMPRESSED) != 0) {
            int x = compressedOffsetBits(geo);
            long offset = raw & ((1L << x) - 1);
            int sectors = (int) ((raw >>> x) & ((1L << (geo.clusterBits() - 8)) - 1)) + 1;
            return new Compressed(raw, bitmap, offset, sectors, (raw & COPIED) != 0);
        }
        long hostOffset = raw & OFFSET_MASK;
        boolean copied = (raw & COPIED) != 0;
        if ((raw & ZERO) != 0 && !extended) {
            return new Zero(raw, hostOffset, copied);
        }
        if (hostOffset == 0) {
            // Offset 0 is a valid data-file offset; refcount 1 (COPIED) disambiguates it.
            if (externalDataFile && copied) return new Normal(raw, bitmap, 0, true, extended);
            return new Unallocated(raw, bitmap, extended);
        }
        return new Normal(raw, bitmap, hostOffset, copied, extended);
    }
}
