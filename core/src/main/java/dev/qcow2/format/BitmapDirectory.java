package dev.qcow2.format;

import dev.qcow2.CorruptImageException;
import dev.qcow2.UnsupportedFeatureException;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Decodes the bitmap directory with the checks of QEMU's {@code bitmap_list_load} and
 * {@code check_dir_entry}.
 */
public final class BitmapDirectory {
    private BitmapDirectory() { }

    public static final long MAX_TABLE_SIZE = 0x8000000L;            // BME_MAX_TABLE_SIZE
    public static final long MAX_PHYS_SIZE = 0x20000000L;            // BME_MAX_PHYS_SIZE, 512 MiB
    public static final int MIN_GRANULARITY_BITS = 9;
    public static final int MAX_GRANULARITY_BITS = 31;
    public static final int MAX_NAME_SIZE = 1023;
    private static final int ENTRY_HEADER = 24;

    public static List<BitmapDirectoryEntry> read(Storage storage, Qcow2Header header) throws IOException {
        String res = storage.describe();
        HeaderExtension.Bitmaps ext = header.extension(HeaderExtension.Bitmaps.class).orElse(null);
        if (ext == null || !header.bitmapsConsistent()) return List.of();
        long fileSize = storage.size();
        TableLimits.requireInsideFile(res, "bitmap directory", ext.directoryOffset(), ext.directorySize(), fileSize);
        byte[] dir = storage.read(ext.directoryOffset(), (int) ext.directorySize());
        ByteBuffer b = ByteBuffer.wrap(dir);
        List<BitmapDirectoryEntry> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        int pos = 0;
        while (pos < dir.length) {
            if (dir.length - pos < ENTRY_HEADER) throw broken(res, ext.directoryOffset() + pos, "Broken bitmap directory");
            long tableOffset = b.getLong(pos);
            long tableSize = Integer.toUnsignedLong(b.getInt(pos + 8));
            int flags = b.getInt(pos + 12);
            int type = Byte.toUnsignedInt(b.get(pos + 16));
            int granularity = Byte.toUnsignedInt(b.get(pos + 17));
            int nameSize = Short.toUnsignedInt(b.getShort(pos + 18));
            long extraSize = Integer.toUnsignedLong(b.getInt(pos + 20));
            long entryOffset = ext.directoryOffset() + pos;
            if (extraSize != 0) {
                throw new UnsupportedFeatureException(res, "Bitmap extra data is not supported (bitmap directory entry @0x"
                        + Long.toHexString(entryOffset) + ")");
            }
            long entryLength = ENTRY_HEADER + extraSize + nameSize;
            if (entryLength > dir.length - pos) throw broken(res, entryOffset, "Broken bitmap directory");
            String name = new String(dir, pos + ENTRY_HEADER + (int) extraSize, nameSize, StandardCharsets.UTF_8);
            BitmapDirectoryEntry e = new BitmapDirectoryEntry(entryOffset, tableOffset, tableSize, flags, type,
                    granularity, name, extraSize);
            checkEntry(res, e, nameSize, header.clusterSize(), header.size());
            if (!names.add(name)) throw broken(res, entryOffset, "duplicate bitmap name '" + name + "'");
            out.add(e);
            pos += (int) ((entryLength + 7) & ~7L);
        }
        if (out.size() != ext.nbBitmaps()) {
            throw broken(res, ext.directoryOffset(), "Broken bitmap directory: " + out.size()
                    + " entries, header extension says " + ext.nbBitmaps());
        }
        return out;
    }

    private static void checkEntry(String res, BitmapDirectoryEntry e, int nameSize, int clusterSize, long diskSize)
            throws CorruptImageException {
        String what = "bitmap '" + e.name() + "'";
        if (e.tableSize() == 0 || e.tableOffset() == 0 || (e.tableOffset() & (clusterSize - 1)) != 0) {
            throw broken(res, e.entryOffset(), what + ": invalid bitmap table offset/size");
        }
        if (e.tableSize() > MAX_TABLE_SIZE) throw broken(res, e.entryOffset(), what + ": bitmap table too large");
        if (e.granularityBits() > MAX_GRANULARITY_BITS || e.granularityBits() < MIN_GRANULARITY_BITS) {
            throw broken(res, e.entryOffset(), what + ": granularity bits " + e.granularityBits() + " outside 9..31");
        }
        if ((e.flags() & BitmapDirectoryEntry.QEMU_RESERVED_FLAGS) != 0) {
            throw broken(res, e.entryOffset(), what + ": reserved flags 0x" + Integer.toHexString(e.flags()));
        }
        if (nameSize == 0 || nameSize > MAX_NAME_SIZE) throw broken(res, e.entryOffset(), what + ": bad name size " + nameSize);
        if (e.type() != BitmapDirectoryEntry.TYPE_DIRTY_TRACKING) {
            throw broken(res, e.entryOffset(), what + ": unknown type " + e.type());
        }
        long physBytes = e.tableSize() * clusterSize;
        if (physBytes > MAX_PHYS_SIZE) throw broken(res, e.entryOffset(), what + ": bitmap data too large");
        if (!e.inUse() && diskSize > 0) {
            // Enough bits to cover the disk: (phys*8) << granularity >= disk size.
            double coverable = (double) physBytes * 8 * Math.pow(2, e.granularityBits());
            if (coverable < diskSize) throw broken(res, e.entryOffset(), what + ": bitmap table too small for the disk");
        }
    }

    /**
     * The directory holding {@code entries} in order, each 8-aligned: the inverse of
     * {@link #read} (which sets each entry's {@code entryOffset} from where it lands). Extra data,
     * which no known version defines, is written as zeros of {@code extraDataSize} bytes.
     */
    public static byte[] encode(List<BitmapDirectoryEntry> entries) {
        int size = 0;
        for (BitmapDirectoryEntry e : entries) size += paddedLength(e);
        ByteBuffer b = ByteBuffer.allocate(size);
        for (BitmapDirectoryEntry e : entries) {
            int start = b.position();
            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
            if (name.length > 0xffff) throw new IllegalArgumentException("bitmap name of " + name.length + " bytes");
            b.putLong(e.tableOffset()).putInt((int) e.tableSize()).putInt(e.flags())
                    .put((byte) e.type()).put((byte) e.granularityBits()).putShort((short) name.length)
                    .putInt((int) e.extraDataSize());
            b.position(b.position() + (int) e.extraDataSize());
            b.put(name);
            b.position(start + paddedLength(e));
        }
        return b.array();
    }

    /** Bytes of {@code e} in the directory, padding to 8 included. */
    public static int paddedLength(BitmapDirectoryEntry e) {
        long length = ENTRY_HEADER + e.extraDataSize() + e.name().getBytes(StandardCharsets.UTF_8).length;
        return (int) ((length + 7) & ~7L);
    }

    private static CorruptImageException broken(String res, long at, String detail) {
        return new CorruptImageException(res, "bitmap directory", at, null, detail);
    }

    /** A bitmap table entry (qcow2.rst "Bitmap table"). */
    public record TableEntry(long raw) {
        public static final long RESERVED_MASK = 0xff00_0000_0000_01feL;
        public static final long OFFSET_MASK = 0x00ff_ffff_ffff_fe00L;
        public long offset() { return raw & OFFSET_MASK; }
        /** Without an offset, bit 0 says the whole cluster of bits is ones. */
        public boolean allOnes() { return offset() == 0 && (raw & 1) != 0; }
        public long reservedBits() { return raw & RESERVED_MASK; }

        /** The entry for a cluster of bits at {@code offset} (cluster-aligned), the inverse of {@link #offset()}. */
        public static TableEntry at(long offset) {
            if (offset == 0 || (offset & ~OFFSET_MASK) != 0) {
                throw new IllegalArgumentException("bitmap data offset 0x" + Long.toHexString(offset) + " is not 512-aligned below 2^56");
            }
            return new TableEntry(offset);
        }

        /** The entry for a cluster of bits that is not stored: all zeros, or with {@code ones} all ones. */
        public static TableEntry unallocated(boolean ones) {
            return new TableEntry(ones ? 1 : 0);
        }
    }
}
