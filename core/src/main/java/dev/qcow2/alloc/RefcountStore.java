package dev.qcow2.alloc;

import dev.qcow2.CorruptImageException;
import dev.qcow2.format.RefcountBlockCodec;
import dev.qcow2.mapping.ClusterMapper;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * The refcount table and its refcount blocks (qcow2.rst "Host cluster management"), read on
 * demand and written through: every change is written to the file at once, so that a later
 * {@link SyncedStorage#barrier()} makes it durable before metadata that depends on it.
 *
 * <p>Invariant: {@link #table} mirrors the on-disk refcount table; a cached block mirrors the
 * on-disk block at its offset.
 */
public final class RefcountStore {
    /** QEMU's REFT_OFFSET_MASK: bits 9-63 hold the refcount block offset. */
    public static final long REFT_OFFSET_MASK = 0xffff_ffff_ffff_fe00L;

    private final SyncedStorage storage;
    private final ClusterGeometry geo;
    private final Map<Long, byte[]> blocks = new HashMap<>();
    private long[] table;
    private long tableOffset;
    private boolean writeBack;

    public RefcountStore(SyncedStorage storage, ClusterGeometry geo, long tableOffset, int tableClusters) throws IOException {
        this.storage = storage;
        this.geo = geo;
        this.tableOffset = tableOffset;
        this.table = ClusterMapper.readTable(storage.raw(), tableOffset, (int) ((long) tableClusters * geo.clusterSize() / 8));
    }

    public ClusterGeometry geometry() { return geo; }

    /**
     * Refcount changes go to {@link SyncedStorage#writeBack} (written by the next barrier or
     * flush, before its fsync) instead of straight to the file, as QEMU's refcount block cache.
     * Safe because everything that relies on a refcount being durable comes after a barrier.
     */
    public void writeBack(boolean on) { this.writeBack = on; }

    public long tableOffset() { return tableOffset; }

    public int tableEntries() { return table.length; }

    public int tableClusters() { return (int) ((long) table.length * 8 / geo.clusterSize()); }

    /** Refcount entries per refcount block. */
    public long entriesPerBlock() { return geo.refblockEntries(); }

    /** Clusters describable by the current table: those with index below this. */
    public long coveredClusters() { return table.length * entriesPerBlock(); }

    public long blockOffset(int tableIndex) throws CorruptImageException {
        if (tableIndex >= table.length) return 0;
        long entry = table[tableIndex];
        long offset = entry & REFT_OFFSET_MASK;
        if (offset != 0 && geo.offsetInCluster(offset) != 0) {
            throw new CorruptImageException(storage.describe(), "refcount table", tableIndex, offset,
                    "Refblock offset 0x" + Long.toHexString(offset) + " unaligned (reftable index: 0x"
                            + Integer.toHexString(tableIndex) + ")");
        }
        return offset;
    }

    /** Whether cluster {@code clusterIndex} has a refcount block to hold its count. */
    public boolean covered(long clusterIndex) throws IOException {
        return blockOffset(tableIndex(clusterIndex)) != 0;
    }

    public int tableIndex(long clusterIndex) {
        long t = clusterIndex / entriesPerBlock();
        return t > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) t;
    }

    /** The refcount of a host cluster; 0 when no refcount block describes it. */
    public long get(long clusterIndex) throws IOException {
        long off = blockOffset(tableIndex(clusterIndex));
        if (off == 0) return 0;
        return RefcountBlockCodec.get(block(off), geo.refcountOrder(), clusterIndex % entriesPerBlock());
    }

    /** Stores a refcount; the cluster's refcount block must exist. Written through. */
    public void set(long clusterIndex, long value) throws IOException {
        setCached(clusterIndex, value);
        writeRange(clusterIndex, 1);
    }

    /**
     * Stores a refcount in the cached block only; {@link #writeRange} must write it before
     * anything relies on it being on disk.
     */
    public void setCached(long clusterIndex, long value) throws IOException {
        long off = blockOffset(tableIndex(clusterIndex));
        if (off == 0) throw new IllegalStateException("no refcount block for cluster " + clusterIndex);
        RefcountBlockCodec.set(block(off), geo.refcountOrder(), clusterIndex % entriesPerBlock(), value);
    }

    /** Writes the cached refcounts of clusters {@code [first, first+n)}: one write per refcount block touched. */
    public void writeRange(long first, long n) throws IOException {
        int bits = geo.refcountBits();
        long epb = entriesPerBlock();
        long c = first;
        long end = first + n;
        while (c < end) {
            long blockEnd = Math.min(end, (c / epb + 1) * epb);
            long off = blockOffset(tableIndex(c));
            byte[] b = block(off);
            long a = c % epb, z = (blockEnd - 1) % epb;
            int from = (int) (bits < 8 ? a * bits / 8 : a * (bits / 8));
            int to = (int) (bits < 8 ? z * bits / 8 + 1 : (z + 1) * (bits / 8));
            if (writeBack) storage.writeBack(off + from, b, from, to - from);
            else storage.write(off + from, b, from, to - from);
            c = blockEnd;
        }
    }

    private byte[] block(long offset) throws IOException {
        byte[] b = blocks.get(offset);
        if (b == null) {
            b = storage.read(offset, geo.clusterSize());
            blocks.put(offset, b);
        }
        return b;
    }

    /**
     * Writes a complete new refcount block at {@code offset}. The caller makes it durable
     * before {@link #link} points the table at it.
     */
    public void writeBlock(long offset, byte[] content) throws IOException {
        storage.write(offset, content);
        blocks.put(offset, content);
    }

    /** Points table entry {@code tableIndex} at a refcount block already written and flushed. */
    public void link(int tableIndex, long blockOffset) throws IOException {
        table[tableIndex] = blockOffset;
        storage.write(tableOffset + 8L * tableIndex, ByteBuffer.allocate(8).putLong(blockOffset).array());
    }

    /** Entries of the table, for building a larger copy. */
    public long[] tableCopy() { return table.clone(); }

    /** Switches to a new table already written, flushed and named in the header. */
    public void replaceTable(long newOffset, long[] newTable) {
        this.tableOffset = newOffset;
        this.table = newTable;
    }
}
