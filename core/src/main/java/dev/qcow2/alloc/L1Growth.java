package dev.qcow2.alloc;

import dev.qcow2.ImageLimitException;
import dev.qcow2.format.HeaderField;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Growing and shrinking the active L1 table, as QEMU's qcow2_grow_l1_table and
 * qcow2_shrink_l1_table (block/qcow2-cluster.c).
 *
 * <p>Growth order (crash safety): the new table's clusters are allocated (refcounts written)
 * and flushed; the table is written and flushed; then l1_size and l1_table_offset change in
 * one 12-byte header write, flushed; only then is the old table freed. A crash leaves either
 * the old or the new table in force, at worst with leaked clusters.
 */
public final class L1Growth {
    /** QEMU's QCOW_MAX_L1_SIZE: 32 MiB of L1 entries. */
    public static final long MAX_L1_ENTRIES = (32L << 20) / 8;

    private L1Growth() { }

    /** An L1 table: where it is and its entries. */
    public record Table(long offset, long[] entries) { }

    /**
     * The L1 size QEMU picks for at least {@code minSize} entries: exactly {@code minSize} for a
     * resize; otherwise (a write beyond the table) the old size times 1.5, rounded up,
     * repeatedly until it suffices.
     */
    public static long newSize(long oldSize, long minSize, boolean exact) {
        if (exact) return minSize;
        long n = Math.max(1, oldSize);
        while (minSize > n) n = (n * 3 + 1) / 2;
        return n;
    }

    /**
     * Replaces {@code old} by a table of at least {@code minSize} entries (the old entries
     * first, zeros after). Returns {@code old} itself when it is already large enough.
     */
    public static Table grow(SyncedStorage storage, ClusterAllocator allocator, Table old, long minSize, boolean exact)
            throws IOException {
        long oldSize = old.entries().length;
        if (minSize <= oldSize) return old;
        long size = newSize(oldSize, minSize, exact);
        if (minSize > Integer.MAX_VALUE / 8 || size > MAX_L1_ENTRIES) {
            throw new ImageLimitException(storage.describe(), "Failed to grow the L1 table: File too large");
        }
        long[] entries = new long[(int) size];
        System.arraycopy(old.entries(), 0, entries, 0, old.entries().length);
        long bytes = size * 8;
        long offset = allocator.allocate(bytes);
        storage.barrier();
        ByteBuffer table = ByteBuffer.allocate((int) bytes);
        table.asLongBuffer().put(entries);
        storage.write(offset, table.array());
        storage.barrier();
        HeaderPatch.write(storage, HeaderField.L1_SIZE.is(size), HeaderField.L1_TABLE_OFFSET.is(offset));
        storage.barrier();
        if (old.offset() != 0 && oldSize > 0) allocator.free(old.offset(), oldSize * 8);
        return new Table(offset, entries);
    }

    /**
     * QEMU's qcow2_shrink_l1_table: entries from {@code newSize} on are zeroed on disk and
     * flushed (the header's l1_size stays as it is, as in QEMU). Returns the L2 table offsets
     * those entries named; the caller releases them (and what they reference) only now that
     * nothing points at them.
     */
    public static long[] clearTail(SyncedStorage storage, Table table, int newSize, long offsetMask) throws IOException {
        long[] entries = table.entries();
        if (newSize >= entries.length) return new long[0];
        storage.write(table.offset() + 8L * newSize, new byte[(entries.length - newSize) * 8]);
        storage.barrier();
        long[] released = new long[entries.length - newSize];
        for (int i = newSize; i < entries.length; i++) {
            released[i - newSize] = entries[i] & offsetMask;
            entries[i] = 0;
        }
        return released;
    }
}
