package dev.qcow2.alloc;

import dev.qcow2.format.RefcountBlockCodec;
import dev.qcow2.units.ClusterGeometry;

import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The refcounts of an image being created, kept in memory while {@code create} runs the
 * allocator over it; written to the file once the layout is complete. On a new image every
 * refcount is 0 or 1 (nothing is shared), so one bit per cluster holds them; {@link #refcountBlock}
 * encodes a block at the image's refcount width.
 *
 * <p>Also records the file's extent ({@link #end()}: where the furthest refcount structure
 * ends) and the bytes an old refcount table leaves behind in clusters it freed ({@link #stale()}),
 * both part of the image qemu-img writes.
 */
public final class NewImageRefcounts implements RefcountBacking {
    private final ClusterGeometry geo;
    private final String name;
    private final BitSet used = new BitSet();
    private long[] table;
    private long tableOffset;
    private final Map<Long, byte[]> stale = new TreeMap<>();
    private long end;

    /**
     * QEMU's qcow2_co_create start: a refcount table of {@code tableEntries} entries at
     * {@code tableOffset} whose entry 0 names the block at {@code firstBlock}. No refcount is set.
     */
    public NewImageRefcounts(String name, ClusterGeometry geo, long tableOffset, int tableEntries, long firstBlock) {
        this.name = name;
        this.geo = geo;
        this.tableOffset = tableOffset;
        this.table = new long[tableEntries];
        this.table[0] = firstBlock;
    }

    @Override public ClusterGeometry geometry() { return geo; }

    @Override public String describe() { return name; }

    /** qcow2_get_refcount on a new image: 0 where no refcount block covers the cluster. */
    @Override
    public long get(long clusterIndex) {
        long t = clusterIndex / geo.refblockEntries();
        if (t >= table.length || table[(int) t] == 0) return 0;
        return used.get(index(clusterIndex)) ? 1 : 0;
    }

    @Override
    public void setCached(long clusterIndex, long value) {
        if (value > 1) {
            throw new IllegalStateException("cluster " + clusterIndex + " of a new image referenced twice");
        }
        used.set(index(clusterIndex), value == 1);
    }

    /** In memory: the refcounts are written with the finished layout. */
    @Override public void writeRange(long first, long n) { }

    @Override public int tableEntries() { return table.length; }

    @Override
    public long blockOffset(int tableIndex) { return tableIndex < table.length ? table[tableIndex] : 0; }

    @Override
    public void writeNewBlock(long offset, boolean countsItself) {
        if (countsItself) used.set(index(offset >>> geo.clusterBits()));
        wrote(offset, geo.clusterSize());
    }

    @Override public void link(int tableIndex, long blockOffset) { table[tableIndex] = blockOffset; }

    @Override public void barrier() { }

    /** The layout decides the file's length (qemu-img does not write allocated data clusters). */
    @Override public void extendTo(long end) { }

    /** A write of refcount metadata (or of anything the layout reports): the file reaches past it. */
    public void wrote(long offset, long length) { end = Math.max(end, offset + length); }

    /** The end of the furthest write reported so far. */
    public long end() { return end; }

    public long tableOffset() { return tableOffset; }

    long[] tableCopy() { return table.clone(); }

    /** Switches to a new table; the old one's bytes stay in its clusters (QEMU does not erase them). */
    void replaceTable(long offset, long[] entries) {
        stale.put(tableOffset, tableBytes(table));
        table = entries;
        tableOffset = offset;
    }

    /** The refcount table's entries, as the file holds them. */
    public byte[] tableBytes() { return tableBytes(table); }

    /** Bytes of old refcount tables left in clusters since freed, by host offset. */
    public Map<Long, byte[]> stale() { return Collections.unmodifiableMap(stale); }

    /** Contents of the refcount block for table index {@code t}. */
    public byte[] refcountBlock(int t) {
        byte[] block = new byte[geo.clusterSize()];
        long first = t * geo.refblockEntries();
        long end = Math.min(first + geo.refblockEntries(), (long) Integer.MAX_VALUE);
        for (int c = used.nextSetBit(index(first)); c >= 0 && c < end; c = used.nextSetBit(c + 1)) {
            RefcountBlockCodec.set(block, geo.refcountOrder(), c - first, 1);
        }
        return block;
    }

    /** qcow2_get_last_cluster: the highest cluster below {@code size} clusters with a refcount; -1 when none. */
    public long lastUsedCluster(long size) {
        for (long i = size - 1; i >= 0; i--) if (get(i) != 0) return i;
        return -1;
    }

    /** Big-endian 64-bit words, as every qcow2 table. */
    public static byte[] tableBytes(long[] entries) {
        ByteBuffer b = ByteBuffer.allocate(entries.length * 8);
        b.asLongBuffer().put(entries);
        return b.array();
    }

    private static int index(long clusterIndex) {
        if (clusterIndex > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("The image is too large to lay out (more than 2^31 host clusters)");
        }
        return (int) clusterIndex;
    }
}
