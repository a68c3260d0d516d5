package dev.qcow2.image;

import dev.qcow2.CorruptImageException;
import dev.qcow2.format.BitmapDirectory;
import dev.qcow2.format.BitmapDirectoryEntry;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.TableLimits;
import dev.qcow2.mapping.ClusterMapper;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The bits of one persistent bitmap (qcow2.rst "Bitmaps"): bit n covers guest bytes
 * [n*granularity, (n+1)*granularity); bits are LSB-first within a byte; each bitmap table entry
 * covers one cluster of bits (all zeros without an offset, or all ones when bit 0 is set).
 */
public final class BitmapReader {
    private final Storage storage;
    private final BitmapDirectoryEntry entry;
    private final long[] table;
    private final int clusterSize;
    private final long diskSize;

    private BitmapReader(Storage storage, BitmapDirectoryEntry entry, long[] table, int clusterSize, long diskSize) {
        this.storage = storage;
        this.entry = entry;
        this.table = table;
        this.clusterSize = clusterSize;
        this.diskSize = diskSize;
    }

    /** The table of {@code entry}, each entry checked (reserved bits, alignment), read from {@code storage}. */
    public static BitmapReader load(Storage storage, Qcow2Header header, BitmapDirectoryEntry entry) throws IOException {
        long bytes = entry.tableSize() * 8;
        TableLimits.requireInsideFile(storage.describe(), "bitmap table of '" + entry.name() + "'", entry.tableOffset(), bytes, storage.size());
        long[] table = ClusterMapper.readTable(storage, entry.tableOffset(), (int) entry.tableSize());
        for (int i = 0; i < table.length; i++) {
            BitmapDirectory.TableEntry t = new BitmapDirectory.TableEntry(table[i]);
            if (t.reservedBits() != 0 || (t.offset() != 0 && (table[i] & 1) != 0)
                    || (t.offset() & (header.clusterSize() - 1)) != 0) {
                throw new CorruptImageException(storage.describe(), "bitmap table", entry.tableOffset() + 8L * i, table[i],
                        "invalid bitmap table entry " + i + " of '" + entry.name() + "'");
            }
        }
        return new BitmapReader(storage, entry, table, header.clusterSize(), Qcow2Image.guestSize(header));
    }

    public BitmapDirectoryEntry entry() { return entry; }

    /** Number of bits that cover the disk. */
    public long bitCount() {
        return (diskSize + entry.granularity() - 1) / entry.granularity();
    }

    /** Whether the guest byte range of bit {@code n} is marked. */
    public boolean get(long n) throws IOException {
        long bitsPerCluster = (long) clusterSize * 8;
        int tableIndex = (int) (n / bitsPerCluster);
        if (tableIndex >= table.length) return false;
        BitmapDirectory.TableEntry t = new BitmapDirectory.TableEntry(table[tableIndex]);
        if (t.offset() == 0) return t.allOnes();
        long bitInCluster = n % bitsPerCluster;
        ByteBuffer one = ByteBuffer.allocate(1);
        storage.readFully(t.offset() + bitInCluster / 8, one);
        return ((one.get(0) >>> (bitInCluster % 8)) & 1) != 0;
    }

    /** Number of set bits (dirty granules) over the disk. */
    public long countSetBits() throws IOException {
        long total = bitCount();
        long bitsPerCluster = (long) clusterSize * 8;
        long count = 0;
        for (int i = 0; i < table.length && (long) i * bitsPerCluster < total; i++) {
            long bitsHere = Math.min(bitsPerCluster, total - (long) i * bitsPerCluster);
            BitmapDirectory.TableEntry t = new BitmapDirectory.TableEntry(table[i]);
            if (t.offset() == 0) {
                if (t.allOnes()) count += bitsHere;
                continue;
            }
            byte[] data = storage.read(t.offset(), (int) ((bitsHere + 7) / 8));
            for (long b = 0; b < bitsHere; b++) {
                if (((data[(int) (b / 8)] >>> (b % 8)) & 1) != 0) count++;
            }
        }
        return count;
    }

    /**
     * The dirty guest byte ranges [start, end), merged, the last one clipped to the disk size;
     * one read per cluster of bits.
     */
    public java.util.List<long[]> dirtyRanges() throws IOException {
        java.util.List<long[]> out = new java.util.ArrayList<>();
        long total = bitCount();
        long bitsPerCluster = (long) clusterSize * 8;
        long g = entry.granularity();
        long runStart = -1;
        for (int i = 0; i < table.length && (long) i * bitsPerCluster < total; i++) {
            long base = (long) i * bitsPerCluster;
            long bitsHere = Math.min(bitsPerCluster, total - base);
            BitmapDirectory.TableEntry t = new BitmapDirectory.TableEntry(table[i]);
            byte[] data = t.offset() == 0 ? null : storage.read(t.offset(), (int) ((bitsHere + 7) / 8));
            for (long b = 0; b < bitsHere; b++) {
                boolean set = data == null ? t.allOnes() : ((data[(int) (b / 8)] >>> (b % 8)) & 1) != 0;
                if (set && runStart < 0) runStart = base + b;
                if (!set && runStart >= 0) {
                    out.add(new long[]{runStart * g, (base + b) * g});
                    runStart = -1;
                }
            }
        }
        if (runStart >= 0) out.add(new long[]{runStart * g, Math.min(total * g, diskSize)});
        return out;
    }

    /** The raw table entries (for dump and check). */
    public long[] table() { return table.clone(); }
}
