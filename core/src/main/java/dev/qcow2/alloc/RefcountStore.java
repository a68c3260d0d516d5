package dev.qcow2.alloc;

import dev.qcow2.format.RefcountBlockCodec;
import dev.qcow2.refcount.RefcountReader;
import dev.qcow2.refcount.RefcountUnreadableException;
import dev.qcow2.refcount.Reftable;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The writer's policy over the one refcount reader ({@link RefcountReader}, table validated
 * with {@link Reftable.Policy#WRITER}): refcount changes are made in the reader's retained
 * block cache and written through, every change to the file at once, so that a later
 * {@link SyncedStorage#barrier()} makes it durable before metadata that depends on it (or, in
 * {@link #writeBack} mode, queued in the storage until that barrier).
 *
 * <p>Invariant: the reader's {@link Reftable} mirrors the on-disk refcount table; a cached
 * block mirrors the on-disk block at its offset (or the queued write-back of it).
 */
public final class RefcountStore implements RefcountBacking {

    private final SyncedStorage storage;
    private final ClusterGeometry geo;
    private final RefcountReader reader;
    private boolean writeBack;

    public RefcountStore(SyncedStorage storage, ClusterGeometry geo, long tableOffset, int tableClusters) throws IOException {
        this.storage = storage;
        this.geo = geo;
        Reftable table = Reftable.read(storage.raw(), geo, tableOffset, tableClusters, storage.length(), Reftable.Policy.WRITER);
        this.reader = new RefcountReader((offset, into) -> storage.readFully(offset, ByteBuffer.wrap(into)), table,
                RefcountReader.Cache.RETAIN);
    }

    @Override
    public ClusterGeometry geometry() { return geo; }

    @Override
    public String describe() { return storage.describe(); }

    /** The reader this store writes through: the same cache and table. */
    public RefcountReader reader() { return reader; }

    /**
     * Refcount changes go to {@link SyncedStorage#writeBack} (written by the next barrier or
     * flush, before its fsync) instead of straight to the file, as QEMU's refcount block cache.
     * Safe because everything that relies on a refcount being durable comes after a barrier.
     */
    public void writeBack(boolean on) { this.writeBack = on; }

    public long tableOffset() { return reader.reftable().offset(); }

    @Override
    public int tableEntries() { return reader.reftable().size(); }

    public int tableClusters() { return reader.reftable().clusters(); }

    /** Refcount entries per refcount block. */
    public long entriesPerBlock() { return geo.refblockEntries(); }

    /** Clusters describable by the current table: those with index below this. */
    public long coveredClusters() { return reader.reftable().coveredClusters(); }

    /**
     * The refcount block of table entry {@code tableIndex}; 0 when none.
     *
     * @throws RefcountUnreadableException when the entry names an unaligned block or one past the end of the file
     */
    @Override
    public long blockOffset(int tableIndex) throws RefcountUnreadableException {
        return reader.reftable().refblockOffset(tableIndex);
    }

    /** Whether cluster {@code clusterIndex} has a refcount block to hold its count. */
    public boolean covered(long clusterIndex) throws IOException {
        return blockOffset(tableIndex(clusterIndex)) != 0;
    }

    /** The refcount of a host cluster; 0 when no refcount block describes it. */
    @Override
    public long get(long clusterIndex) throws IOException {
        return reader.get(clusterIndex);
    }

    /** Stores a refcount; the cluster's refcount block must exist. Written through. */
    @Override
    public void set(long clusterIndex, long value) throws IOException {
        setCached(clusterIndex, value);
        writeRange(clusterIndex, 1);
    }

    /**
     * Stores a refcount in the cached block only; {@link #writeRange} must write it before
     * anything relies on it being on disk.
     */
    @Override
    public void setCached(long clusterIndex, long value) throws IOException {
        long off = blockOffset(tableIndex(clusterIndex));
        if (off == 0) throw new IllegalStateException("no refcount block for cluster " + clusterIndex);
        RefcountBlockCodec.set(reader.refblock(off), geo.refcountOrder(), clusterIndex % entriesPerBlock(), value);
    }

    /** Writes the cached refcounts of clusters {@code [first, first+n)}: one write per refcount block touched. */
    @Override
    public void writeRange(long first, long n) throws IOException {
        int bits = geo.refcountBits();
        long epb = entriesPerBlock();
        long c = first;
        long end = first + n;
        while (c < end) {
            long blockEnd = Math.min(end, (c / epb + 1) * epb);
            long off = blockOffset(tableIndex(c));
            byte[] b = reader.refblock(off);
            long a = c % epb, z = (blockEnd - 1) % epb;
            int from = (int) (bits < 8 ? a * bits / 8 : a * (bits / 8));
            int to = (int) (bits < 8 ? z * bits / 8 + 1 : (z + 1) * (bits / 8));
            if (writeBack) storage.writeBack(off + from, b, from, to - from);
            else storage.write(off + from, b, from, to - from);
            c = blockEnd;
        }
    }

    /**
     * Writes a complete new refcount block at {@code offset}. The caller makes it durable
     * before {@link #link} points the table at it.
     */
    public void writeBlock(long offset, byte[] content) throws IOException {
        storage.write(offset, content);
        reader.cached(offset, content);
    }

    /** A zeroed block (counting itself when it lies in its own range), written through; see {@link #writeBlock}. */
    @Override
    public void writeNewBlock(long offset, boolean countsItself) throws IOException {
        byte[] content = new byte[geo.clusterSize()];
        if (countsItself) RefcountBlockCodec.set(content, geo.refcountOrder(), (offset >>> geo.clusterBits()) % entriesPerBlock(), 1);
        writeBlock(offset, content);
    }

    @Override
    public void barrier() throws IOException { storage.barrier(); }

    @Override
    public void extendTo(long end) { storage.extendTo(end); }

    /** Points table entry {@code tableIndex} at a refcount block already written and flushed. */
    @Override
    public void link(int tableIndex, long blockOffset) throws IOException {
        reader.reftable().set(tableIndex, blockOffset);
        storage.write(reader.reftable().entryFileOffset(tableIndex), ByteBuffer.allocate(8).putLong(blockOffset).array());
    }

    /** Entries of the table, for building a larger copy. */
    public long[] tableCopy() { return reader.reftable().copy(); }

    /** Switches to a new table already written, flushed and named in the header. */
    public void replaceTable(long newOffset, long[] newTable) {
        reader.replaceReftable(reader.reftable().replacedBy(newOffset, newTable, storage.length()));
    }
}
