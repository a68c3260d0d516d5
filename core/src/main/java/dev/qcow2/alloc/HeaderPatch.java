package dev.qcow2.alloc;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * In-place updates of single header fields (qcow2.rst "Header"; all big-endian). Each update
 * is one write that lands inside the first sector, so it is atomic on every real disk: the
 * reference-table offset and its cluster count change together, as in QEMU's
 * qcow2_refcount_area.
 */
public final class HeaderPatch {
    public static final int INCOMPATIBLE_FEATURES = 72;
    public static final int AUTOCLEAR_FEATURES = 88;
    private static final int REFCOUNT_TABLE_OFFSET = 48;

    private HeaderPatch() { }

    /** Writes refcount_table_offset (bytes 48-55) and refcount_table_clusters (56-59) in one write. */
    public static void refcountTable(SyncedStorage s, long offset, int clusters) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(12);
        b.putLong(offset).putInt(clusters);
        s.write(REFCOUNT_TABLE_OFFSET, b.array());
    }

    /** Writes one 64-bit feature field (v3 only). */
    public static void featureField(SyncedStorage s, int fieldOffset, long value) throws IOException {
        s.write(fieldOffset, ByteBuffer.allocate(8).putLong(value).array());
    }
}
