package dev.qcow2.create;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The first cluster of a new image as QEMU 7.2's qcow2_update_header writes it: the header
 * (version 2: 72 bytes; version 3: 112, compression type at byte 104), then the header
 * extensions in QEMU's order (backing format, external data file, feature-name table), the end
 * marker, and the backing file name right after it; zero up to the end of the cluster.
 */
final class HeaderEncoder {
    private HeaderEncoder() { }

    static final int MAGIC = 0x514649fb;
    static final int EXT_BACKING_FORMAT = 0xe2792aca;
    static final int EXT_FEATURE_TABLE = 0x6803f857;
    static final int EXT_DATA_FILE = 0x44415441;

    static final long INCOMPAT_DATA_FILE = 1L << 2;
    static final long INCOMPAT_COMPRESSION = 1L << 3;
    static final long INCOMPAT_EXTL2 = 1L << 4;
    static final long COMPAT_LAZY_REFCOUNTS = 1L;
    static final long AUTOCLEAR_DATA_FILE_RAW = 1L << 1;

    /** QEMU 7.2's feature-name table: {type, bit, name}; type 0 incompatible, 1 compatible, 2 autoclear. */
    private static final Object[][] FEATURES = {
            {0, 0, "dirty bit"},
            {0, 1, "corrupt bit"},
            {0, 2, "external data file"},
            {0, 3, "compression type"},
            {0, 4, "extended L2 entries"},
            {1, 0, "lazy refcounts"},
            {2, 0, "bitmaps"},
            {2, 1, "raw external data"},
    };

    /** Layout fields that the allocator decided. */
    record Tables(long l1Size, long l1Offset, long reftableOffset, long reftableClusters) { }

    static byte[] encode(CreateOptions o, Tables t) {
        int cs = o.clusterSize();
        ByteBuffer b = ByteBuffer.allocate(cs);   // big-endian, as every qcow2 field
        int headerLength = o.version() >= 3 ? 112 : 72;
        b.putInt(0, MAGIC);
        b.putInt(4, o.version());
        b.putInt(20, o.clusterBits());
        b.putLong(24, o.size());
        b.putInt(32, 0);                          // crypt_method: none
        b.putInt(36, (int) t.l1Size());
        b.putLong(40, t.l1Offset());
        b.putLong(48, t.reftableOffset());
        b.putInt(56, (int) t.reftableClusters());
        if (o.version() >= 3) {
            long incompatible = 0;
            if (o.dataFile() != null) incompatible |= INCOMPAT_DATA_FILE;
            if (o.compressionType() != dev.qcow2.format.CompressionType.ZLIB) incompatible |= INCOMPAT_COMPRESSION;
            if (o.extendedL2()) incompatible |= INCOMPAT_EXTL2;
            b.putLong(72, incompatible);
            b.putLong(80, o.lazyRefcounts() ? COMPAT_LAZY_REFCOUNTS : 0);
            b.putLong(88, o.dataFileRaw() ? AUTOCLEAR_DATA_FILE_RAW : 0);
            b.putInt(96, o.refcountOrder());
            b.putInt(100, headerLength);
            b.put(104, (byte) (o.compressionType() == dev.qcow2.format.CompressionType.ZSTD ? 1 : 0));
        }
        b.position(headerLength);
        if (o.backingFmt() != null) extension(b, EXT_BACKING_FORMAT, ascii(o.backingFmt()));
        if (o.dataFile() != null) extension(b, EXT_DATA_FILE, ascii(o.dataFile()));
        // qcow2_update_header omits the table for clusters of 4 KiB and less, to leave room for a backing name
        if (o.version() >= 3 && cs > 4096) extension(b, EXT_FEATURE_TABLE, featureTable());
        b.putLong(0);                             // end of extensions
        if (o.backingFile() != null) {
            byte[] name = o.backingFile().getBytes(StandardCharsets.UTF_8);
            if (name.length > 1023 || b.remaining() < name.length) {
                throw new IllegalArgumentException("Backing file name too long");
            }
            b.putLong(8, b.position());
            b.putInt(16, name.length);
            b.put(name);
        }
        return b.array();
    }

    private static void extension(ByteBuffer b, int magic, byte[] data) {
        int padded = (data.length + 7) & ~7;
        if (b.remaining() < 8 + padded + 8) throw new IllegalArgumentException("Header extensions do not fit in the first cluster");
        b.putInt(magic).putInt(data.length).put(data);
        b.position(b.position() + padded - data.length);
    }

    private static byte[] featureTable() {
        ByteBuffer t = ByteBuffer.allocate(FEATURES.length * 48);
        for (Object[] f : FEATURES) {
            int start = t.position();
            t.put((byte) (int) (Integer) f[0]).put((byte) (int) (Integer) f[1]).put(ascii((String) f[2]));
            t.position(start + 48);
        }
        return t.array();
    }

    private static byte[] ascii(String s) { return s.getBytes(StandardCharsets.UTF_8); }
}
