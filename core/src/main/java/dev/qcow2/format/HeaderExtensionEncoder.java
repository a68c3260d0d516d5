package dev.qcow2.format;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Header extensions encoded as QEMU 7.2's qcow2_update_header lays them out after the fixed
 * header (qcow2.rst "Header extensions"): type, length, the data zero-padded to a multiple of 8
 * bytes; an all-zero end marker closes the list, and the backing file name may follow it. Shared
 * by image creation, amend and rebase, which all rewrite cluster 0 the way QEMU does.
 */
public final class HeaderExtensionEncoder {
    /** QEMU 7.2's feature-name table, in its order; type 0 incompatible, 1 compatible, 2 autoclear. */
    private static final List<HeaderExtension.FeatureName> QEMU_FEATURES = List.of(
            new HeaderExtension.FeatureName(0, 0, "dirty bit"),
            new HeaderExtension.FeatureName(0, 1, "corrupt bit"),
            new HeaderExtension.FeatureName(0, 2, "external data file"),
            new HeaderExtension.FeatureName(0, 3, "compression type"),
            new HeaderExtension.FeatureName(0, 4, "extended L2 entries"),
            new HeaderExtension.FeatureName(1, 0, "lazy refcounts"),
            new HeaderExtension.FeatureName(2, 0, "bitmaps"),
            new HeaderExtension.FeatureName(2, 1, "raw external data"));

    /** Bytes of one feature-name table entry: type, bit, 46 bytes of name (NUL-padded). */
    public static final int FEATURE_ENTRY_SIZE = 48;

    /** Length of the end-of-extensions marker (type 0, length 0). */
    public static final int END_MARKER_LENGTH = 8;

    private HeaderExtensionEncoder() { }

    /**
     * Appends one extension at {@code out}'s position. Returns false, writing nothing, when the
     * extension and the end marker after it would not fit in what remains (QEMU: ENOSPC).
     */
    public static boolean put(ByteBuffer out, int type, byte[] data) {
        int padded = (data.length + 7) & ~7;
        if (out.remaining() < 8 + padded + END_MARKER_LENGTH) return false;
        out.putInt(type).putInt(data.length).put(data);
        out.position(out.position() + padded - data.length);
        return true;
    }

    /** Writes the end marker at {@code out}'s position (room for it is kept by {@link #put}). */
    public static void putEndMarker(ByteBuffer out) {
        out.putLong(0);
    }

    /**
     * Appends {@code e} (type, length, its data, padding) at {@code out}'s position; false, writing
     * nothing, when it and the end marker after it do not fit in what remains.
     */
    public static boolean put(ByteBuffer out, HeaderExtension e) {
        return put(out, e.type(), data(e));
    }

    /**
     * The data of an extension as stored (unpadded), the inverse of HeaderExtensionReader's
     * decoding: names in UTF-8, the bitmaps and crypto fields big-endian, a feature-name table
     * as 48-byte entries filling its recorded length, unknown extensions byte for byte.
     */
    public static byte[] data(HeaderExtension e) {
        return switch (e) {
            case HeaderExtension.BackingFormat f -> utf8(f.format());
            case HeaderExtension.ExternalDataFile f -> utf8(f.fileName());
            case HeaderExtension.CryptoHeader c -> ByteBuffer.allocate(16).putLong(c.headerOffset()).putLong(c.headerLength()).array();
            case HeaderExtension.Bitmaps b -> ByteBuffer.allocate(24).putInt((int) b.nbBitmaps()).putInt((int) b.reserved())
                    .putLong(b.directorySize()).putLong(b.directoryOffset()).array();
            case HeaderExtension.FeatureNameTable t -> featureTable(t.names(), Math.max(t.length(), t.names().size() * FEATURE_ENTRY_SIZE));
            case HeaderExtension.Unknown u -> u.data();
        };
    }

    private static byte[] featureTable(List<HeaderExtension.FeatureName> names, int length) {
        ByteBuffer table = ByteBuffer.allocate(length);
        for (HeaderExtension.FeatureName feature : names) {
            int start = table.position();
            byte[] name = utf8(feature.name());
            table.put((byte) feature.featureType()).put((byte) feature.bit())
                    .put(name, 0, Math.min(name.length, FEATURE_ENTRY_SIZE - 2));
            table.position(start + FEATURE_ENTRY_SIZE);
        }
        return table.array();
    }

    /** The names in the feature-name table QEMU 7.2 writes. */
    public static List<HeaderExtension.FeatureName> qemuFeatureNames() {
        return QEMU_FEATURES;
    }

    /**
     * The feature-name table QEMU 7.2 writes (48-byte entries: type, bit, name). QEMU leaves it
     * out for clusters of 4 KiB and less, to keep room for a backing file name.
     */
    public static byte[] qemuFeatureNameTable() {
        return featureTable(QEMU_FEATURES, QEMU_FEATURES.size() * FEATURE_ENTRY_SIZE);
    }

    private static byte[] utf8(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    /** Whether QEMU writes the feature-name table into an image of this version and cluster size. */
    public static boolean writesFeatureNameTable(int version, int clusterSize) {
        return version >= 3 && clusterSize > 4096;
    }
}
