package dev.qcow2.create;

import dev.qcow2.format.CompressionType;
import dev.qcow2.format.FeatureBits;
import dev.qcow2.format.HeaderExtension;
import dev.qcow2.format.HeaderExtensionEncoder;
import dev.qcow2.format.Qcow2Header;

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

    /** Layout fields that the allocator decided. */
    record Tables(long l1Size, long l1Offset, long reftableOffset, long reftableClusters) { }

    static byte[] encode(CreateOptions o, Tables t) {
        int cs = o.clusterSize();
        ByteBuffer b = ByteBuffer.allocate(cs);   // big-endian, as every qcow2 field
        int headerLength = o.version() >= 3 ? 112 : 72;
        b.putInt(0, Qcow2Header.MAGIC);
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
            if (o.dataFile() != null) incompatible |= FeatureBits.INCOMPAT_DATA_FILE;
            if (o.compressionType() != CompressionType.ZLIB) incompatible |= FeatureBits.INCOMPAT_COMPRESSION;
            if (o.extendedL2()) incompatible |= FeatureBits.INCOMPAT_EXTL2;
            b.putLong(72, incompatible);
            b.putLong(80, o.lazyRefcounts() ? FeatureBits.COMPAT_LAZY_REFCOUNTS : 0);
            b.putLong(88, o.dataFileRaw() ? FeatureBits.AUTOCLEAR_DATA_FILE_RAW : 0);
            b.putInt(96, o.refcountOrder());
            b.putInt(100, headerLength);
            b.put(104, (byte) (o.compressionType() == CompressionType.ZSTD ? 1 : 0));
        }
        b.position(headerLength);
        if (o.backingFmt() != null) extension(b, HeaderExtension.BACKING_FORMAT, utf8(o.backingFmt()));
        if (o.dataFile() != null) extension(b, HeaderExtension.EXTERNAL_DATA_FILE, utf8(o.dataFile()));
        if (HeaderExtensionEncoder.writesFeatureNameTable(o.version(), cs)) {
            extension(b, HeaderExtension.FEATURE_NAME_TABLE, HeaderExtensionEncoder.qemuFeatureNameTable());
        }
        HeaderExtensionEncoder.putEndMarker(b);
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

    private static void extension(ByteBuffer b, int type, byte[] data) {
        if (!HeaderExtensionEncoder.put(b, type, data)) throw new IllegalArgumentException("Header extensions do not fit in the first cluster");
    }

    private static byte[] utf8(String s) { return s.getBytes(StandardCharsets.UTF_8); }
}
