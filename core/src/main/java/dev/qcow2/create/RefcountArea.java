package dev.qcow2.create;

import java.util.ArrayList;
import java.util.List;

/**
 * QEMU 7.2's qcow2_refcount_area (block/qcow2-refcount.c) as a plan: refcount blocks for every
 * refcount table index from {@code startOffset}'s on that has none, placed from
 * {@code startOffset} on, then a new refcount table right after them, large enough to cover the
 * file up to there plus {@code additionalClusters}; every cluster of
 * [{@code startOffset}, {@code endOffset}) gets refcount 1, and the old table is freed.
 *
 * <p>The one model of it: {@code alloc.QemuRefcountArea} applies it to a new image in memory (create),
 * the resize preallocation ({@code preallocation=falloc|full}) to an open image on disk.
 * Precondition (QEMU's): nothing from {@code startOffset} on is in use.
 *
 * @param table        the new refcount table's entries (old entries kept, new blocks entered)
 * @param newBlocks    table indices whose blocks are new (zeroed, then the area's counts set)
 * @param tableOffset  where the new table goes (after the new blocks)
 * @param endOffset    the end of the new table: the first byte after the area
 */
public record RefcountArea(long[] table, List<Integer> newBlocks, long startOffset, long tableOffset,
                           long tableClusters, long endOffset) {

    /**
     * The plan for an image whose refcount table is {@code reftable}; {@code newRefblockIndex}
     * and {@code newRefblockOffset} (0 for none) enter a block allocated by the caller
     * (alloc_refcount_block's call).
     */
    public static RefcountArea plan(long[] reftable, int clusterBits, int refcountOrder, long startOffset,
                                    long additionalClusters, boolean exactSize, int newRefblockIndex, long newRefblockOffset) {
        long clusterSize = 1L << clusterBits;
        long refblockEntries = 1L << (clusterBits + 3 - refcountOrder);
        long totalBlocks = RefcountMath.metadata(startOffset / clusterSize + additionalClusters, clusterSize,
                refcountOrder, !exactSize)[0];
        long areaIndex = (startOffset / clusterSize) / refblockEntries;
        long tableSize = exactSize ? totalBlocks : totalBlocks + RefcountMath.divRoundUp(totalBlocks, 2);
        long perCluster = clusterSize / 8;
        tableSize = RefcountMath.divRoundUp(tableSize, perCluster) * perCluster;
        if (tableSize > Integer.MAX_VALUE / 8) throw new IllegalArgumentException("The refcount table would be too large");
        long tableClusters = tableSize * 8 / clusterSize;

        long[] newTable = new long[(int) tableSize];
        System.arraycopy(reftable, 0, newTable, 0, (int) Math.min(reftable.length, tableSize));
        if (newRefblockOffset != 0) newTable[newRefblockIndex] = newRefblockOffset;

        long additional = 0;
        for (long i = areaIndex; i < totalBlocks; i++) if (newTable[(int) i] == 0) additional++;
        long tableOffset = startOffset + additional * clusterSize;
        long endOffset = tableOffset + tableClusters * clusterSize;

        List<Integer> created = new ArrayList<>();
        long blockOffset = startOffset;
        for (long i = areaIndex; i < totalBlocks; i++) {
            if (newTable[(int) i] == 0) {
                newTable[(int) i] = blockOffset;
                created.add((int) i);
                blockOffset += clusterSize;
            }
        }
        return new RefcountArea(newTable, created, startOffset, tableOffset, tableClusters, endOffset);
    }
}
