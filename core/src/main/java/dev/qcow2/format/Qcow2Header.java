package dev.qcow2.format;

import dev.qcow2.CorruptImageException;
import dev.qcow2.ImageLimitException;
import dev.qcow2.Qcow2Exception;
import dev.qcow2.UnsupportedFeatureException;
import dev.qcow2.storage.Storage;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The qcow2 header in cluster 0 (qcow2.rst "Header"), every field, plus its extensions, the
 * backing file name and any header bytes past the fields we know ({@code unknownHeaderFields},
 * kept verbatim as QEMU does). All integers on disk are big-endian.
 *
 * <p>Validation follows QEMU's {@code qcow2_do_open} in order, with its messages, so that where
 * qemu-img refuses an image this library refuses it for the same reason.
 */
public record Qcow2Header(
        /* bytes 4-7 */ int version,
        /* 8-15 */ long backingFileOffset,
        /* 16-19 */ long backingFileSize,
        /* 20-23 */ int clusterBits,
        /* 24-31: virtual disk size in bytes */ long size,
        /* 32-35: 0 none, 1 AES, 2 LUKS */ int cryptMethod,
        /* 36-39: entries in the active L1 table */ long l1Size,
        /* 40-47 */ long l1TableOffset,
        /* 48-55 */ long refcountTableOffset,
        /* 56-59 */ long refcountTableClusters,
        /* 60-63 */ long nbSnapshots,
        /* 64-71 */ long snapshotsOffset,
        /* 72-79 (v3) */ long incompatibleFeatures,
        /* 80-87 (v3) */ long compatibleFeatures,
        /* 88-95 (v3) */ long autoclearFeatures,
        /* 96-99 (v3; v2 implies 4) */ int refcountOrder,
        /* 100-103 (v3; v2 implies 72) */ int headerLength,
        /* 104 (optional): 0 zlib/deflate, 1 zstd */ int compressionType,
        /* header bytes past 112 that this version does not know */ byte[] unknownHeaderFields,
        List<HeaderExtension> extensions,
        /* null when there is no backing file */ String backingFileName) {

    public static final int MAGIC = 0x514649FB;
    public static final int V2_HEADER_LENGTH = 72;
    public static final int V3_MIN_HEADER_LENGTH = 104;
    public static final int V3_HEADER_LENGTH = 112;
    public static final long MAX_L1_BYTES = 32L * 1024 * 1024;          // QCOW_MAX_L1_SIZE
    public static final long MAX_REFTABLE_BYTES = 8L * 1024 * 1024;     // QCOW_MAX_REFTABLE_SIZE
    public static final long MAX_SNAPSHOTS = 65536;                    // QCOW_MAX_SNAPSHOTS
    public static final int SNAPSHOT_HEADER_SIZE = 40;
    public static final int COMPRESSION_ZLIB = 0;
    public static final int COMPRESSION_ZSTD = 1;
    public static final int CRYPT_NONE = 0;
    public static final int CRYPT_AES = 1;
    public static final int CRYPT_LUKS = 2;

    public ClusterGeometry geometry() {
        return new ClusterGeometry(clusterBits, refcountOrder, hasIncompatible(FeatureBits.INCOMPAT_EXTL2));
    }

    public int clusterSize() { return 1 << clusterBits; }
    public int refcountBits() { return 1 << refcountOrder; }
    public boolean hasIncompatible(long bit) { return (incompatibleFeatures & bit) != 0; }
    public boolean isDirty() { return hasIncompatible(FeatureBits.INCOMPAT_DIRTY); }
    public boolean isCorrupt() { return hasIncompatible(FeatureBits.INCOMPAT_CORRUPT); }
    public boolean hasExternalDataFile() { return hasIncompatible(FeatureBits.INCOMPAT_DATA_FILE); }
    public boolean hasExtendedL2() { return hasIncompatible(FeatureBits.INCOMPAT_EXTL2); }
    public boolean lazyRefcounts() { return (compatibleFeatures & FeatureBits.COMPAT_LAZY_REFCOUNTS) != 0; }
    public boolean dataFileRaw() { return (autoclearFeatures & FeatureBits.AUTOCLEAR_DATA_FILE_RAW) != 0; }
    public boolean bitmapsConsistent() { return (autoclearFeatures & FeatureBits.AUTOCLEAR_BITMAPS) != 0; }
    public String compressionTypeName() { return compressionType == COMPRESSION_ZSTD ? "zstd" : "zlib"; }

    /**
     * The extension of this type. The spec allows each type once; QEMU accepts repeats and the
     * last one wins (each overwrites the previous), so this returns the last.
     */
    public <T extends HeaderExtension> Optional<T> extension(Class<T> type) {
        return extensions.stream().filter(type::isInstance).map(type::cast).reduce((first, second) -> second);
    }

    public List<HeaderExtension.FeatureName> featureNames() {
        return extension(HeaderExtension.FeatureNameTable.class).map(HeaderExtension.FeatureNameTable::names).orElse(List.of());
    }

    public Optional<String> backingFormat() {
        return extension(HeaderExtension.BackingFormat.class).map(HeaderExtension.BackingFormat::format);
    }

    public Optional<String> externalDataFile() {
        return extension(HeaderExtension.ExternalDataFile.class).map(HeaderExtension.ExternalDataFile::fileName);
    }

    /** Number of L1 entries needed to map {@code size} bytes (QEMU's size_to_l1). */
    public long l1EntriesNeeded() {
        ClusterGeometry geo = geometry();
        int shift = geo.clusterBits() + geo.l2Bits();
        return (size + (1L << shift) - 1) >>> shift;
    }

    /** Reads and validates the header of {@code storage}. */
    public static Qcow2Header read(Storage storage) throws IOException {
        return read(storage, false);
    }

    /**
     * @param forCheck open as QEMU does for {@code qemu-img check} (BDRV_O_CHECK): an image
     *                 without a refcount table and a snapshot table pointer that fails
     *                 validation are accepted here, because the check reports them itself.
     */
    public static Qcow2Header read(Storage storage, boolean forCheck) throws IOException {
        String res = storage.describe();
        long fileSize = storage.size();
        // As QEMU's file driver, bytes past the end of the file read as zeros: a truncated
        // header is judged by the values it then has (magic 0, header_length 0, ...).
        ByteBuffer fixed = ByteBuffer.allocate(V3_HEADER_LENGTH).order(ByteOrder.BIG_ENDIAN);
        storage.readFully(0, fixed);
        fixed.flip();
        int magic = fixed.getInt(0);
        if (magic != MAGIC) throw new Qcow2Exception(res, "Image is not in qcow2 format");
        int version = fixed.getInt(4);
        if (version < 2 || version > 3) {
            throw new UnsupportedFeatureException(res, "Unsupported qcow2 version " + version);
        }
        long backingFileOffset = fixed.getLong(8);
        long backingFileSize = Integer.toUnsignedLong(fixed.getInt(16));
        long clusterBitsRaw = Integer.toUnsignedLong(fixed.getInt(20));
        if (clusterBitsRaw < ClusterGeometry.MIN_CLUSTER_BITS || clusterBitsRaw > ClusterGeometry.MAX_CLUSTER_BITS) {
            throw new UnsupportedFeatureException(res, "Unsupported cluster size: 2^" + clusterBitsRaw);
        }
        int clusterBits = (int) clusterBitsRaw;
        int clusterSize = 1 << clusterBits;
        long size = fixed.getLong(24);
        int cryptMethod = fixed.getInt(32);
        long l1Size = Integer.toUnsignedLong(fixed.getInt(36));
        long l1TableOffset = fixed.getLong(40);
        long refcountTableOffset = fixed.getLong(48);
        long refcountTableClusters = Integer.toUnsignedLong(fixed.getInt(56));
        long nbSnapshots = Integer.toUnsignedLong(fixed.getInt(60));
        long snapshotsOffset = fixed.getLong(64);

        long incompatible = 0, compatible = 0, autoclear = 0;
        long refcountOrderRaw = 4;
        long headerLengthRaw = V2_HEADER_LENGTH;
        if (version == 3) {
            incompatible = fixed.getLong(72);
            compatible = fixed.getLong(80);
            autoclear = fixed.getLong(88);
            refcountOrderRaw = Integer.toUnsignedLong(fixed.getInt(96));
            headerLengthRaw = Integer.toUnsignedLong(fixed.getInt(100));
            if (headerLengthRaw < V3_MIN_HEADER_LENGTH) {
                throw new CorruptImageException(res, "header", 100, headerLengthRaw, "qcow2 header too short"
                        + (fileSize < V3_MIN_HEADER_LENGTH ? " (file is " + fileSize + " bytes)" : ""));
            }
        }
        if (headerLengthRaw > clusterSize) {
            throw new CorruptImageException(res, "header", 100, headerLengthRaw, "qcow2 header exceeds cluster size");
        }
        int headerLength = (int) headerLengthRaw;
        // Cluster 0 holds the header, its extensions and the backing file name; zeros past EOF.
        byte[] cluster0 = storage.read(0, clusterSize);
        ByteBuffer c0 = ByteBuffer.wrap(cluster0).order(ByteOrder.BIG_ENDIAN);

        byte[] unknownHeaderFields = new byte[0];
        if (headerLength > V3_HEADER_LENGTH) {
            unknownHeaderFields = new byte[headerLength - V3_HEADER_LENGTH];
            System.arraycopy(cluster0, V3_HEADER_LENGTH, unknownHeaderFields, 0, unknownHeaderFields.length);
        }
        if (Long.compareUnsigned(backingFileOffset, clusterSize) > 0) {
            throw new CorruptImageException(res, "header", 8, backingFileOffset, "Invalid backing file offset");
        }
        int compressionType = headerLength > 104 ? Byte.toUnsignedInt(cluster0[104]) : COMPRESSION_ZLIB;
        if (compressionType != COMPRESSION_ZLIB && compressionType != COMPRESSION_ZSTD) {
            throw new UnsupportedFeatureException(res, "qcow2: unknown compression type: " + compressionType);
        }
        boolean compressionBit = (incompatible & FeatureBits.INCOMPAT_COMPRESSION) != 0;
        if (compressionType == COMPRESSION_ZLIB && compressionBit) {
            throw new CorruptImageException(res, "header", 72, incompatible,
                    "qcow2: Compression type incompatible feature bit must not be set");
        }
        if (compressionType != COMPRESSION_ZLIB && !compressionBit) {
            throw new CorruptImageException(res, "header", 72, incompatible,
                    "qcow2: Compression type incompatible feature bit must be set");
        }

        int extensionsEnd = backingFileOffset != 0 ? (int) backingFileOffset : clusterSize;
        List<HeaderExtension> extensions = HeaderExtensionReader.read(res, c0, headerLength, extensionsEnd,
                clusterSize, autoclear);

        if ((incompatible & ~FeatureBits.INCOMPAT_KNOWN) != 0) {
            long unknown = incompatible & ~FeatureBits.INCOMPAT_KNOWN;
            List<HeaderExtension.FeatureName> table = extensions.stream()
                    .filter(HeaderExtension.FeatureNameTable.class::isInstance)
                    .map(e -> ((HeaderExtension.FeatureNameTable) e).names()).reduce((first, second) -> second).orElse(List.of());
            StringBuilder names = new StringBuilder();
            for (FeatureBits.NamedBit nb : FeatureBits.describe(FeatureBits.Kind.INCOMPATIBLE, unknown, table)) {
                if (names.length() > 0) names.append(", ");
                names.append(nb.name() != null ? nb.name() : "Unknown incompatible feature: " + Long.toHexString(1L << nb.bit()));
            }
            throw new UnsupportedFeatureException(res, "Unsupported qcow2 feature(s): " + names, unknown);
        }
        if (refcountOrderRaw > 6) {
            throw new UnsupportedFeatureException(res, "Reference count entry width too large; may not exceed 64 bits");
        }
        int refcountOrder = (int) refcountOrderRaw;
        if ((incompatible & FeatureBits.INCOMPAT_EXTL2) != 0 && clusterBits < 14) {
            throw new CorruptImageException(res, "header", 20, (long) clusterBits,
                    "Extended L2 entries are only supported with cluster sizes of at least 16384 bytes");
        }
        if (Integer.compareUnsigned(cryptMethod, CRYPT_LUKS) > 0) {
            throw new UnsupportedFeatureException(res, "Unsupported encryption method " + Integer.toUnsignedString(cryptMethod));
        }
        if (refcountTableClusters == 0 && !forCheck) {
            throw new CorruptImageException(res, "header", 56, 0L, "Image does not contain a reference count table");
        }
        TableLimits.validate(res, "Reference count table", refcountTableOffset, refcountTableClusters,
                clusterSize, MAX_REFTABLE_BYTES, clusterSize);
        if (!forCheck) {
            TableLimits.validate(res, "Snapshot table", snapshotsOffset, nbSnapshots,
                    SNAPSHOT_HEADER_SIZE, MAX_SNAPSHOTS * SNAPSHOT_HEADER_SIZE, clusterSize);
        }
        TableLimits.validate(res, "Active L1 table", l1TableOffset, l1Size, 8, MAX_L1_BYTES, clusterSize);
        if (size < 0) {
            throw new ImageLimitException(res, "Image is too big (virtual size 0x" + Long.toHexString(size) + ")");
        }
        int l2Bits = clusterBits - ((incompatible & FeatureBits.INCOMPAT_EXTL2) != 0 ? 4 : 3);
        int shift = clusterBits + l2Bits;
        long l1Needed = shift >= 63 ? (size == 0 ? 0 : 1) : (size + (1L << shift) - 1) >>> shift;
        if (size > Long.MAX_VALUE - (1L << Math.min(shift, 62)) || l1Needed > Integer.MAX_VALUE) {
            throw new ImageLimitException(res, "Image is too big");
        }
        if (l1Size < l1Needed) {
            throw new CorruptImageException(res, "header", 36, l1Size, "L1 table is too small");
        }

        String backingFileName = null;
        if (backingFileOffset != 0) {
            if (backingFileSize > Math.min(1023, clusterSize - backingFileOffset)) {
                throw new CorruptImageException(res, "header", 16, backingFileSize, "Backing file name too long");
            }
            // QEMU keeps the name as a C string: it ends at the first NUL (zeros past EOF).
            int len = 0;
            while (len < backingFileSize && cluster0[(int) backingFileOffset + len] != 0) len++;
            // An empty name means no backing file (QEMU's bdrv_open_backing_file).
            if (len > 0) backingFileName = new String(cluster0, (int) backingFileOffset, len, StandardCharsets.UTF_8);
        }
        return new Qcow2Header(version, backingFileOffset, backingFileSize, clusterBits, size, cryptMethod,
                l1Size, l1TableOffset, refcountTableOffset, refcountTableClusters, nbSnapshots, snapshotsOffset,
                incompatible, compatible, autoclear, refcountOrder, headerLength, compressionType,
                unknownHeaderFields, List.copyOf(extensions), backingFileName);
    }

    private static int readMagic(Storage storage) throws IOException {
        return ByteBuffer.wrap(storage.read(0, 4)).getInt();
    }

    /** Every field in on-disk order, for {@code dump header}. */
    public List<Object[]> fields() {
        List<Object[]> f = new ArrayList<>();
        f.add(new Object[]{"magic", 0, 4, (long) MAGIC});
        f.add(new Object[]{"version", 4, 4, (long) version});
        f.add(new Object[]{"backing_file_offset", 8, 8, backingFileOffset});
        f.add(new Object[]{"backing_file_size", 16, 4, backingFileSize});
        f.add(new Object[]{"cluster_bits", 20, 4, (long) clusterBits});
        f.add(new Object[]{"size", 24, 8, size});
        f.add(new Object[]{"crypt_method", 32, 4, (long) cryptMethod});
        f.add(new Object[]{"l1_size", 36, 4, l1Size});
        f.add(new Object[]{"l1_table_offset", 40, 8, l1TableOffset});
        f.add(new Object[]{"refcount_table_offset", 48, 8, refcountTableOffset});
        f.add(new Object[]{"refcount_table_clusters", 56, 4, refcountTableClusters});
        f.add(new Object[]{"nb_snapshots", 60, 4, nbSnapshots});
        f.add(new Object[]{"snapshots_offset", 64, 8, snapshotsOffset});
        if (version >= 3) {
            f.add(new Object[]{"incompatible_features", 72, 8, incompatibleFeatures});
            f.add(new Object[]{"compatible_features", 80, 8, compatibleFeatures});
            f.add(new Object[]{"autoclear_features", 88, 8, autoclearFeatures});
            f.add(new Object[]{"refcount_order", 96, 4, (long) refcountOrder});
            f.add(new Object[]{"header_length", 100, 4, (long) headerLength});
            if (headerLength > 104) f.add(new Object[]{"compression_type", 104, 1, (long) compressionType});
        }
        return f;
    }
}
