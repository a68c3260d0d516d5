package dev.qcow2.mapping;

import dev.qcow2.units.HostOffset;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one cache of L2 tables: a byte-bounded LRU of tables as raw words, keyed by the table's
 * host offset, loading a missing table through its {@link Loader}. A read-only image's cache is
 * shared by concurrent readers and by its snapshot views (tables never change). A writer's cache
 * is also where its changes live: the writer changes the cached table in place and queues the
 * same bytes for the file (after-flush records of its {@code SyncedStorage}, which its loader
 * overlays), so a table evicted before its entries reach the disk loads again with them.
 *
 * <p>Default size as QEMU's read_cache_sizes: enough tables to map the whole disk, capped at
 * 32 MiB (256 GiB of guest space at 64 KiB clusters), and never fewer than two tables.
 */
public final class L2Cache {
    public static final long DEFAULT_MAX_BYTES = 32L * 1024 * 1024;

    /** Reads the L2 table at a host offset (one cluster of big-endian words). */
    @FunctionalInterface
    public interface Loader {
        long[] load(HostOffset tableOffset) throws IOException;
    }

    private final int capacityTables;
    private final Loader loader;
    private final LinkedHashMap<Long, long[]> tables;
    private long hits;
    private long misses;

    public L2Cache(long maxBytes, int clusterSize, Loader loader) {
        this.capacityTables = (int) Math.max(2, Math.min(Integer.MAX_VALUE, maxBytes / clusterSize));
        this.loader = loader;
        this.tables = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, long[]> eldest) {
                return size() > capacityTables;
            }
        };
    }

    /** QEMU's default cache size for a disk of {@code virtualSize} bytes. */
    public static long defaultBytes(long virtualSize, int clusterSize, int l2EntrySize) {
        long clusters = (virtualSize + clusterSize - 1) / clusterSize;
        long needed = clusters * l2EntrySize;
        needed = (needed + clusterSize - 1) / clusterSize * clusterSize;
        return Math.max(2L * clusterSize, Math.min(needed, DEFAULT_MAX_BYTES));
    }

    /**
     * The table at {@code tableOffset}, loaded on a miss. The array is the cached table itself:
     * readers must not change it; the writer changes it only together with the file.
     */
    public long[] table(HostOffset tableOffset) throws IOException { return table(tableOffset.value()); }

    /** {@link #table(HostOffset)} for the mapper's hot path, which holds the offset as read from L1. */
    long[] table(long key) throws IOException {
        long[] t;
        synchronized (this) {
            t = tables.get(key);
            if (t == null) misses++; else hits++;
        }
        if (t != null) return t;
        // loaded outside the lock: concurrent readers of different tables do not wait for each other
        t = loader.load(new HostOffset(key));
        synchronized (this) {
            long[] raced = tables.putIfAbsent(key, t);
            return raced == null ? t : raced;
        }
    }

    /** Caches a table the writer just made (a new or copied L2 table), replacing any older one there. */
    public synchronized void put(HostOffset tableOffset, long[] table) {
        tables.put(tableOffset.value(), table);
    }

    /** Drops a table whose cluster was freed (the cluster may come back as something else). */
    public synchronized void forget(HostOffset tableOffset) {
        tables.remove(tableOffset.value());
    }

    public int capacityTables() { return capacityTables; }

    public synchronized long hits() { return hits; }

    public synchronized long misses() { return misses; }
}
