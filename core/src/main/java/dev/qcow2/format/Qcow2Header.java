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
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
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
        int magic = (int) HeaderField.MAGIC.get(fixed);
        if (magic != MAGIC) throw new Qcow2Exception(res, "Image is not in qcow2 format");
        int version = (int) HeaderField.VERSION.get(fixed);
        if (version < 2 || version > 3) {
            throw new UnsupportedFeatureException(res, "Unsupported qcow2 version " + version);
        }
        long backingFileOffset = HeaderField.BACKING_FILE_OFFSET.get(fixed);
        long backingFileSize = HeaderField.BACKING_FILE_SIZE.get(fixed);
        long clusterBitsRaw = HeaderField.CLUSTER_BITS.get(fixed);
        if (clusterBitsRaw < ClusterGeometry.MIN_CLUSTER_BITS || clusterBitsRaw > ClusterGeometry.MAX_CLUSTER_BITS) {
            throw new UnsupportedFeatureException(res, "Unsupported cluster size: 2^" + clusterBitsRaw);
        }
        int clusterBits = (int) clusterBitsRaw;
        int clusterSize = 1 << clusterBits;
        long size = HeaderField.SIZE.get(fixed);
        int cryptMethod = (int) HeaderField.CRYPT_METHOD.get(fixed);
        long l1Size = HeaderField.L1_SIZE.get(fixed);
        long l1TableOffset = HeaderField.L1_TABLE_OFFSET.get(fixed);
        long refcountTableOffset = HeaderField.REFCOUNT_TABLE_OFFSET.get(fixed);
        long refcountTableClusters = HeaderField.REFCOUNT_TABLE_CLUSTERS.get(fixed);
        long nbSnapshots = HeaderField.NB_SNAPSHOTS.get(fixed);
        long snapshotsOffset = HeaderField.SNAPSHOTS_OFFSET.get(fixed);

        long incompatible = 0, compatible = 0, autoclear = 0;
        long refcountOrderRaw = 4;
        long headerLengthRaw = V2_HEADER_LENGTH;
        if (version == 3) {
            incompatible = HeaderField.INCOMPATIBLE_FEATURES.get(fixed);
            compatible = HeaderField.COMPATIBLE_FEATURES.get(fixed);
            autoclear = HeaderField.AUTOCLEAR_FEATURES.get(fixed);
            refcountOrderRaw = HeaderField.REFCOUNT_ORDER.get(fixed);
            headerLengthRaw = HeaderField.HEADER_LENGTH.get(fixed);
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
        int compressionType = HeaderField.COMPRESSION_TYPE.presentIn(version, headerLength)
                ? (int) HeaderField.COMPRESSION_TYPE.get(c0) : COMPRESSION_ZLIB;
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

    /** Every field this header carries, in on-disk order, for {@code dump header}: {name, offset, width, value}. */
    public List<Object[]> fields() {
        List<Object[]> f = new ArrayList<>();
        for (HeaderField field : HeaderField.presentFields(version, headerLength)) {
            f.add(new Object[]{field.qemuName(), field.offset(), field.width(), field.of(this)});
        }
        return f;
    }

    /** Equal when every field is: the byte arrays (unknown header fields) by content. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Qcow2Header h && version == h.version && backingFileOffset == h.backingFileOffset
                && backingFileSize == h.backingFileSize && clusterBits == h.clusterBits && size == h.size
                && cryptMethod == h.cryptMethod && l1Size == h.l1Size && l1TableOffset == h.l1TableOffset
                && refcountTableOffset == h.refcountTableOffset && refcountTableClusters == h.refcountTableClusters
                && nbSnapshots == h.nbSnapshots && snapshotsOffset == h.snapshotsOffset
                && incompatibleFeatures == h.incompatibleFeatures && compatibleFeatures == h.compatibleFeatures
                && autoclearFeatures == h.autoclearFeatures && refcountOrder == h.refcountOrder
                && headerLength == h.headerLength && compressionType == h.compressionType
                && Arrays.equals(unknownHeaderFields, h.unknownHeaderFields)
                && Objects.equals(extensions, h.extensions) && Objects.equals(backingFileName, h.backingFileName);
    }

    @Override
    public int hashCode() {
        return Objects.hash(version, backingFileOffset, size, l1TableOffset, refcountTableOffset, incompatibleFeatures,
                Arrays.hashCode(unknownHeaderFields), extensions, backingFileName);
    }

    /** A builder starting from this header's values, for writers that change a few fields. */
    public Builder toBuilder() { return new Builder(this); }

    /** Mutable copy of every component; {@link #build()} makes the record. */
    public static final class Builder {
        private int version;
        private long backingFileOffset;
        private long backingFileSize;
        private int clusterBits;
        private long size;
        private int cryptMethod;
        private long l1Size;
        private long l1TableOffset;
        private long refcountTableOffset;
        private long refcountTableClusters;
        private long nbSnapshots;
        private long snapshotsOffset;
        private long incompatibleFeatures;
        private long compatibleFeatures;
        private long autoclearFeatures;
        private int refcountOrder = 4;
        private int headerLength;
        private int compressionType;
        private byte[] unknownHeaderFields = new byte[0];
        private List<HeaderExtension> extensions = List.of();
        private String backingFileName;

        /** A header with every field 0 except refcount_order 4 (v2's implied value). */
        public Builder() { }

        private Builder(Qcow2Header h) {
            version = h.version; backingFileOffset = h.backingFileOffset; backingFileSize = h.backingFileSize;
            clusterBits = h.clusterBits; size = h.size; cryptMethod = h.cryptMethod; l1Size = h.l1Size;
            l1TableOffset = h.l1TableOffset; refcountTableOffset = h.refcountTableOffset;
            refcountTableClusters = h.refcountTableClusters; nbSnapshots = h.nbSnapshots; snapshotsOffset = h.snapshotsOffset;
            incompatibleFeatures = h.incompatibleFeatures; compatibleFeatures = h.compatibleFeatures;
            autoclearFeatures = h.autoclearFeatures; refcountOrder = h.refcountOrder; headerLength = h.headerLength;
            compressionType = h.compressionType;
            unknownHeaderFields = h.unknownHeaderFields == null ? new byte[0] : h.unknownHeaderFields;
            extensions = h.extensions; backingFileName = h.backingFileName;
        }

        public Builder version(int v) { version = v; return this; }
        public Builder backingFileOffset(long v) { backingFileOffset = v; return this; }
        public Builder backingFileSize(long v) { backingFileSize = v; return this; }
        public Builder clusterBits(int v) { clusterBits = v; return this; }
        public Builder size(long v) { size = v; return this; }
        public Builder cryptMethod(int v) { cryptMethod = v; return this; }
        public Builder l1Size(long v) { l1Size = v; return this; }
        public Builder l1TableOffset(long v) { l1TableOffset = v; return this; }
        public Builder refcountTableOffset(long v) { refcountTableOffset = v; return this; }
        public Builder refcountTableClusters(long v) { refcountTableClusters = v; return this; }
        public Builder nbSnapshots(long v) { nbSnapshots = v; return this; }
        public Builder snapshotsOffset(long v) { snapshotsOffset = v; return this; }
        public Builder incompatibleFeatures(long v) { incompatibleFeatures = v; return this; }
        public Builder compatibleFeatures(long v) { compatibleFeatures = v; return this; }
        public Builder autoclearFeatures(long v) { autoclearFeatures = v; return this; }
        public Builder refcountOrder(int v) { refcountOrder = v; return this; }
        public Builder headerLength(int v) { headerLength = v; return this; }
        public Builder compressionType(int v) { compressionType = v; return this; }
        public Builder unknownHeaderFields(byte[] v) { unknownHeaderFields = v; return this; }
        public Builder extensions(List<HeaderExtension> v) { extensions = List.copyOf(v); return this; }
        public Builder backingFileName(String v) { backingFileName = v; return this; }

        public Qcow2Header build() {
            return new Qcow2Header(version, backingFileOffset, backingFileSize, clusterBits, size, cryptMethod, l1Size,
                    l1TableOffset, refcountTableOffset, refcountTableClusters, nbSnapshots, snapshotsOffset,
                    incompatibleFeatures, compatibleFeatures, autoclearFeatures, refcountOrder, headerLength,
                    compressionType, unknownHeaderFields, extensions, backingFileName);
        }
    }
}
