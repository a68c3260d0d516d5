package dev.qcow2.alloc;

import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;

/**
 * Where {@link ClusterAllocator} keeps the refcounts it reads and changes: the one allocator runs
 * over either backing.
 * <ul>
 *   <li>{@link RefcountStore}: an open image's on-disk refcount table and blocks, every change
 *       written through (crash-safe ordering by {@link #barrier()});</li>
 *   <li>{@link NewImageRefcounts}: the refcounts of an image being laid out by {@code create},
 *       in memory, written to the file once the layout is complete.</li>
 * </ul>
 * Invariant of both: a cluster's refcount is readable (and settable) only when its refcount
 * table entry names a block; an uncovered cluster reads 0, as QEMU's qcow2_get_refcount.
 */
public sealed interface RefcountBacking extends FreeClusterSearch.Refcounts<IOException>
        permits RefcountStore, NewImageRefcounts {

    ClusterGeometry geometry();

    /** The file, for messages. */
    String describe();

    /** The refcount of a host cluster; 0 when no refcount block describes it. */
    @Override
    long get(long clusterIndex) throws IOException;

    /** Stores a refcount in the block (its block must exist); {@link #writeRange} makes it durable. */
    void setCached(long clusterIndex, long value) throws IOException;

    /** Writes the refcounts of clusters {@code [first, first+n)} set with {@link #setCached}. */
    void writeRange(long first, long n) throws IOException;

    /** {@link #setCached} and {@link #writeRange} of one cluster. */
    default void set(long clusterIndex, long value) throws IOException {
        setCached(clusterIndex, value);
        writeRange(clusterIndex, 1);
    }

    /** Entries of the refcount table. */
    int tableEntries();

    /** The refcount block named by table entry {@code tableIndex}; 0 when none (or past the table). */
    long blockOffset(int tableIndex) throws IOException;

    /** The table entry whose block holds cluster {@code clusterIndex}'s refcount (clamped to int). */
    default int tableIndex(long clusterIndex) {
        long t = clusterIndex / geometry().refblockEntries();
        return t > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) t;
    }

    /**
     * Writes a new, zeroed refcount block at {@code offset}; with {@code countsItself} the block
     * lies in the range it describes and holds its own refcount 1. Not yet named by the table.
     */
    void writeNewBlock(long offset, boolean countsItself) throws IOException;

    /** Points table entry {@code tableIndex} at a refcount block written (and made durable) before. */
    void link(int tableIndex, long blockOffset) throws IOException;

    /** Durability point: what was written before reaches the disk before anything written after. */
    void barrier() throws IOException;

    /** Clusters below {@code end} were allocated: the file must reach that far. */
    void extendTo(long end) throws IOException;
}
