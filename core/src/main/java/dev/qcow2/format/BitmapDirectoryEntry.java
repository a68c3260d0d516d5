package dev.qcow2.format;

/**
 * One bitmap directory entry (qcow2.rst "Bitmaps"), 8-aligned.
 *
 * @param entryOffset      host offset of this entry
 * @param tableOffset      bytes 0-7: bitmap table (cluster-aligned)
 * @param tableSize        bytes 8-11: entries in the bitmap table
 * @param flags            bytes 12-15: bit 0 in_use, bit 1 auto, bit 2 extra_data_compatible
 * @param type             byte 16: 1 = dirty tracking
 * @param granularityBits  byte 17: each bit covers 2^granularityBits guest bytes
 * @param extraDataSize    bytes 20-23
 */
public record BitmapDirectoryEntry(long entryOffset, long tableOffset, long tableSize, int flags, int type,
                                   int granularityBits, String name, long extraDataSize) {
    public static final int FLAG_IN_USE = 1;
    public static final int FLAG_AUTO = 1 << 1;
    public static final int FLAG_EXTRA_DATA_COMPATIBLE = 1 << 2;
    /** QEMU's BME_RESERVED_FLAGS: it also refuses bit 2. */
    public static final int QEMU_RESERVED_FLAGS = 0xfffffffc;
    public static final int TYPE_DIRTY_TRACKING = 1;

    public boolean inUse() { return (flags & FLAG_IN_USE) != 0; }
    public boolean auto() { return (flags & FLAG_AUTO) != 0; }
    public long granularity() { return 1L << granularityBits; }
}
