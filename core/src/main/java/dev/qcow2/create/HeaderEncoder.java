package dev.qcow2.create;

import dev.qcow2.format.CompressionType;
import dev.qcow2.format.FeatureBits;
import dev.qcow2.format.QemuHeaderLayout;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.Qcow2HeaderEncoder;

/**
 * The first cluster of a new image as QEMU 7.2's qcow2_update_header writes it: the header
 * fields of the new image laid out by {@link QemuHeaderLayout} (version 2: 72 bytes; version 3:
 * 112, compression type at byte 104; backing format, external data file and feature-name table
 * extensions, the end marker and the backing file name) and encoded by the one header encoder,
 * {@link Qcow2HeaderEncoder}.
 */
final class HeaderEncoder {
    private HeaderEncoder() { }

    /** Layout fields that the allocator decided; the LUKS area (offset, length) or 0, 0. */
    record Tables(long l1Size, long l1Offset, long reftableOffset, long reftableClusters, long cryptoOffset, long cryptoLength) {
        Tables(long l1Size, long l1Offset, long reftableOffset, long reftableClusters) {
            this(l1Size, l1Offset, reftableOffset, reftableClusters, 0, 0);
        }
    }

    static byte[] encode(CreateOptions o, Tables t) {
        Qcow2Header.Builder h = new Qcow2Header.Builder()
                .version(o.version())
                .clusterBits(o.clusterBits())
                .size(o.size())
                .cryptMethod(o.encryption() == null ? Qcow2Header.CRYPT_NONE
                        : o.encryption().luks() ? Qcow2Header.CRYPT_LUKS : Qcow2Header.CRYPT_AES)
                .l1Size(t.l1Size())
                .l1TableOffset(t.l1Offset())
                .refcountTableOffset(t.reftableOffset())
                .refcountTableClusters(t.reftableClusters())
                .backingFileName(o.backingFile());
        if (t.cryptoLength() > 0) {
            // qcow2_crypto_hdr_init_func: the full disk encryption header extension names the LUKS area
            h.extensions(java.util.List.of(new dev.qcow2.format.HeaderExtension.CryptoHeader(0, 16, t.cryptoOffset(), t.cryptoLength())));
        }
        if (o.version() >= 3) {
            long incompatible = 0;
            if (o.dataFile() != null) incompatible |= FeatureBits.INCOMPAT_DATA_FILE;
            if (o.compressionType() != CompressionType.ZLIB) incompatible |= FeatureBits.INCOMPAT_COMPRESSION;
            if (o.extendedL2()) incompatible |= FeatureBits.INCOMPAT_EXTL2;
            h.incompatibleFeatures(incompatible)
                    .compatibleFeatures(o.lazyRefcounts() ? FeatureBits.COMPAT_LAZY_REFCOUNTS : 0)
                    .autoclearFeatures(o.dataFileRaw() ? FeatureBits.AUTOCLEAR_DATA_FILE_RAW : 0)
                    .refcountOrder(o.refcountOrder())
                    .compressionType(o.compressionType() == CompressionType.ZSTD
                            ? Qcow2Header.COMPRESSION_ZSTD : Qcow2Header.COMPRESSION_ZLIB);
        }
        try {
            return Qcow2HeaderEncoder.encode(QemuHeaderLayout.layout(h.build(), o.backingFmt(), o.dataFile()));
        } catch (QemuHeaderLayout.NoRoomException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }
}
