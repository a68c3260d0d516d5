package dev.qcow2.format;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Header extensions encoded as QEMU 7.2's qcow2_update_header lays them out after the fixed
 * header (qcow2.rst "Header extensions"): type, length, the data zero-padded to a multiple of 8
 * bytes; an all-zero end marker closes the list, and the backing file name may follow it. Shared
 * by image creation, amend and rebase, which all rewrite cluster 0 the way QEMU does.
 */
public final class HeaderExtensionEncoder {
    /** QEMU 7.2's feature-name table: {type, bit, name}; type 0 incompatible, 1 compatible, 2 autoclear. */
    private static final Object[][] QEMU_FEATURES = {
            {0, 0, "dirty bit"},
            {0, 1, "corrupt bit"},
            {0, 2, "external data file"},
            {0, 3, "compression type"},
            {0, 4, "extended L2 entries"},
            {1, 0, "lazy refcounts"},
            {2, 0, "bitmaps"},
            {2, 1, "raw external data"},
    };

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
     * The feature-name table QEMU 7.2 writes (48-byte entries: type, bit, name). QEMU leaves it
     * out for clusters of 4 KiB and less, to keep room for a backing file name.
     */
    public static byte[] qemuFeatureNameTable() {
        ByteBuffer table = ByteBuffer.allocate(QEMU_FEATURES.length * 48);
        for (Object[] feature : QEMU_FEATURES) {
            int start = table.position();
            table.put((byte) (int) (Integer) feature[0]).put((byte) (int) (Integer) feature[1])
                    .put(((String) feature[2]).getBytes(StandardCharsets.US_ASCII));
            table.position(start + 48);
        }
        return table.array();
    }

    /** Whether QEMU writes the feature-name table into an image of this version and cluster size. */
    public static boolean writesFeatureNameTable(int version, int clusterSize) {
        return version >= 3 && clusterSize > 4096;
    }
}
