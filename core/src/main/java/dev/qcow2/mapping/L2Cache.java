package dev.qcow2.mapping;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A byte-bounded LRU cache of decoded L2 tables, keyed by the table's host offset and shared by
 * concurrent readers. Tables are immutable once cached (read-only images).
 *
 * <p>Default size as QEMU's read_cache_sizes: enough tables to map the whole disk, capped at
 * 32 MiB (256 GiB of guest space at 64 KiB clusters), and never fewer than two tables.
 */
public final class L2Cache {
    public static final long DEFAULT_MAX_BYTES = 32L * 1024 * 1024;

    private final int capacityTables;
    private final LinkedHashMap<Long, long[]> tables;
    private long hits;
    private long misses;

    public L2Cache(long maxBytes, int clusterSize) {
        this.capacityTables = (int) Math.max(2, Math.min(Integer.MAX_VALUE, maxBytes / clusterSize));
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

    public synchronized long[] get(long tableOffset) {
        long[] t = tables.get(tableOffset);
        if (t == null) misses++; else hits++;
        return t;
    }

    public synchronized void put(long tableOffset, long[] table) {
        tables.put(tableOffset, table);
    }

    public int capacityTables() { return capacityTables; }

    public synchronized long hits() { return hits; }

    public synchronized long misses() { return misses; }
}
