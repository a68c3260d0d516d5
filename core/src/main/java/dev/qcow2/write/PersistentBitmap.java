package dev.qcow2.write;

import dev.qcow2.format.BitmapDirectoryEntry;

import java.util.ArrayList;
import java.util.List;

/**
 * One persistent dirty bitmap held in memory while an image is open for writing (QEMU's
 * BdrvDirtyBitmap with persistence set). Bit n covers guest bytes [n*granularity,
 * (n+1)*granularity). An inconsistent bitmap (IN_USE in the image when it was opened) has no
 * bits: QEMU refuses to use it and never stores it, it stays in the directory as it was.
 */
public final class PersistentBitmap {
    private final String name;
    private final int granularityBits;
    private final boolean inconsistent;
    /** The directory entry this bitmap was loaded from (its old table is freed on store); null when added. */
    private final BitmapDirectoryEntry loadedFrom;
    private boolean enabled;
    private long bitCount;
    private long[] words;

    PersistentBitmap(String name, int granularityBits, boolean enabled, boolean inconsistent,
                     BitmapDirectoryEntry loadedFrom, long diskSize) {
        this.name = name;
        this.granularityBits = granularityBits;
        this.enabled = enabled;
        this.inconsistent = inconsistent;
        this.loadedFrom = loadedFrom;
        this.bitCount = bitsFor(diskSize, granularityBits);
        this.words = inconsistent ? new long[0] : new long[Math.toIntExact((bitCount + 63) >>> 6)];
    }

    static long bitsFor(long diskSize, int granularityBits) {
        return (diskSize + (1L << granularityBits) - 1) >>> granularityBits;
    }

    public String name() { return name; }

    public long granularity() { return 1L << granularityBits; }

    int granularityBits() { return granularityBits; }

    /** Whether writes set its bits (the directory's "auto" flag). */
    public boolean enabled() { return enabled; }

    /** IN_USE in the image when opened: its bits are unknown and it cannot be used (only removed). */
    public boolean inconsistent() { return inconsistent; }

    BitmapDirectoryEntry loadedFrom() { return loadedFrom; }

    void setEnabled(boolean on) { enabled = on; }

    /** Number of bits that cover the disk. */
    public long bitCount() { return bitCount; }

    public boolean get(long bit) {
        return bit < bitCount && (words[(int) (bit >>> 6)] & (1L << (bit & 63))) != 0;
    }

    /** Sets the bits of every granule that {@code [offset, offset+length)} touches (hbitmap_set). */
    void mark(long offset, long length) {
        if (length <= 0 || inconsistent) return;
        long first = offset >>> granularityBits;
        long last = Math.min((offset + length - 1) >>> granularityBits, bitCount - 1);
        setRange(first, last);
    }

    /** Sets bits {@code first..last} inclusive. */
    void setRange(long first, long last) {
        for (long b = first; b <= last; ) {
            int w = (int) (b >>> 6);
            int from = (int) (b & 63);
            int to = (int) Math.min(63, last - (b & ~63L));
            long mask = (to == 63 ? -1L : (1L << (to + 1)) - 1) & (-1L << from);
            words[w] |= mask;
            b = (b & ~63L) + 64;
        }
    }

    void clear() { java.util.Arrays.fill(words, 0); }

    /** ORs {@code source}'s bits in, granule by granule over the guest (bdrv_merge_dirty_bitmap). */
    void merge(PersistentBitmap source) {
        if (source.granularityBits == granularityBits) {
            for (int i = 0; i < Math.min(words.length, source.words.length); i++) words[i] |= source.words[i];
            return;
        }
        for (long[] r : source.dirtyRanges()) mark(r[0], r[1] - r[0]);
    }

    /** Keeps the bits over the new size; new bits are clear (hbitmap_truncate). */
    void resize(long diskSize) {
        long bits = bitsFor(diskSize, granularityBits);
        long[] fresh = new long[Math.toIntExact((bits + 63) >>> 6)];
        System.arraycopy(words, 0, fresh, 0, Math.min(words.length, fresh.length));
        bitCount = bits;
        words = fresh;
        trimTail();
    }

    /** Number of set bits. */
    public long countSetBits() {
        long n = 0;
        for (long w : words) n += Long.bitCount(w);
        return n;
    }

    /** The dirty guest byte ranges [start, end), merged, ends clipped to the bit count. */
    public List<long[]> dirtyRanges() {
        List<long[]> out = new ArrayList<>();
        long start = -1;
        for (long b = 0; b < bitCount; b++) {
            if (words[(int) (b >>> 6)] == 0 && (b & 63) == 0) {
                if (start >= 0) { out.add(new long[]{start << granularityBits, b << granularityBits}); start = -1; }
                b += 63;
                continue;
            }
            boolean set = get(b);
            if (set && start < 0) start = b;
            if (!set && start >= 0) { out.add(new long[]{start << granularityBits, b << granularityBits}); start = -1; }
        }
        if (start >= 0) out.add(new long[]{start << granularityBits, bitCount << granularityBits});
        return out;
    }

    /**
     * The serialized bits of table cluster {@code index} ({@code clusterSize} bytes, LSB first
     * within a byte, as QEMU's hbitmap serializes little-endian longs), or null when all clear.
     */
    byte[] clusterBytes(int index, int clusterSize) {
        int wordsPerCluster = clusterSize / 8;
        int from = index * wordsPerCluster;
        int to = Math.min(words.length, from + wordsPerCluster);
        boolean any = false;
        for (int i = from; i < to && !any; i++) any = words[i] != 0;
        if (!any) return null;
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(clusterSize).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = from; i < to; i++) b.putLong(words[i]);
        return b.array();
    }

    /** ORs one stored cluster of bits in (the inverse of {@link #clusterBytes}). */
    void loadCluster(int index, byte[] bytes, int clusterSize) {
        int wordsPerCluster = clusterSize / 8;
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < wordsPerCluster && index * wordsPerCluster + i < words.length && b.remaining() >= 8; i++) {
            words[index * wordsPerCluster + i] |= b.getLong();
        }
        trimTail();
    }

    /** Clears the bits past the disk end (a stored cluster may carry more). */
    private void trimTail() {
        if ((bitCount & 63) != 0 && words.length > 0) words[words.length - 1] &= (1L << (bitCount & 63)) - 1;
    }

    /** Entries in the bitmap table: clusters of serialized bits (QEMU's size_to_clusters of the serialization size). */
    long tableSize(int clusterSize) {
        long bytes = ((bitCount + 63) >>> 6) * 8;
        return (bytes + clusterSize - 1) / clusterSize;
    }
}
