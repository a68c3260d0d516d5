package dev.qcow2.alloc;

import dev.qcow2.format.HeaderField;

import java.io.IOException;

/**
 * In-place updates of header fields through the write engine (qcow2.rst "Header"): the bytes
 * come from {@link HeaderField#patch}, one write of adjacent fields inside the first sector, so
 * it is atomic on every real disk (e.g. the reference-table offset and its cluster count change
 * together, as in QEMU's qcow2_refcount_area). Ordering (barriers, flushes) is the caller's.
 */
public final class HeaderPatch {
    private HeaderPatch() { }

    /** Writes {@code values} (adjacent fields, in on-disk order) in one write. */
    public static void write(SyncedStorage s, HeaderField.Value... values) throws IOException {
        HeaderField.Patch p = HeaderField.patch(values);
        s.write(p.offset(), p.bytes());
    }

    /** Writes refcount_table_offset (bytes 48-55) and refcount_table_clusters (56-59) in one write. */
    public static void refcountTable(SyncedStorage s, long offset, int clusters) throws IOException {
        write(s, HeaderField.REFCOUNT_TABLE_OFFSET.is(offset), HeaderField.REFCOUNT_TABLE_CLUSTERS.is(clusters));
    }
}
