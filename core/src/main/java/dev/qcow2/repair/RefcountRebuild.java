package dev.qcow2.repair;

import dev.qcow2.check.ReferenceCounts;
import dev.qcow2.format.HeaderField;
import dev.qcow2.format.RefcountBlockCodec;
import dev.qcow2.storage.WritableStorage;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * QEMU 7.1+'s {@code rebuild_refcount_structure}: new refblocks and a new reftable are built
 * from the in-memory refcounts alone, allocated first-fit in clusters nobody references, and
 * written before the header points at them (one 12-byte write of refcount_table_offset and
 * refcount_table_clusters, then a flush). The old structure is then merely leaked.
 */
final class RefcountRebuild {

    private final WritableStorage storage;
    private final ReferenceCounts imrt;
    private final int clusterBits;
    private final int order;
    private final int refblockBits;
    private long nbClusters;
    private long[] reftable = new long[0];

    private RefcountRebuild(WritableStorage storage, ClusterGeometry geo, ReferenceCounts imrt) {
        this.storage = storage;
        this.imrt = imrt;
        this.clusterBits = geo.clusterBits();
        this.order = geo.refcountOrder();
        this.refblockBits = clusterBits + 3 - order;
        this.nbClusters = imrt.size();
    }

    /** Rebuilds; {@code imrt} gains the new refblocks and reftable. Returns the new reftable offset. */
    static long run(WritableStorage storage, ClusterGeometry geo, ReferenceCounts imrt) throws IOException {
        return new RefcountRebuild(storage, geo, imrt).rebuild();
    }

    private long rebuild() throws IOException {
        writeRefblocks(0, nbClusters);
        long reftableOffset;
        long reftableClusters;
        boolean grown;
        do {
            long bytes = (long) reftable.length * 8;
            reftableClusters = (bytes + (1L << clusterBits) - 1) >>> clusterBits;
            reftableOffset = allocate(reftableClusters, new long[]{0});
            long start = reftableOffset >>> clusterBits;
            grown = writeRefblocks(start, start + reftableClusters);
        } while (grown);
        ByteBuffer table = ByteBuffer.allocate(reftable.length * 8);
        for (long e : reftable) table.putLong(e);
        storage.write(reftableOffset, table.flip());
        storage.flush();   // refblocks and reftable durable before the header points at them
        HeaderField.Patch header = HeaderField.patch(HeaderField.REFCOUNT_TABLE_OFFSET.is(reftableOffset),
                HeaderField.REFCOUNT_TABLE_CLUSTERS.is(reftableClusters));
        storage.write(header.offset(), header.buffer());
        storage.flush();
        return reftableOffset;
    }

    /** rebuild_refcounts_write_refblocks over [first, end); returns whether the reftable grew. */
    private boolean writeRefblocks(long first, long end) throws IOException {
        long firstFree = 0;
        boolean grown = false;
        int perBlock = 1 << refblockBits;
        for (long cluster = first; cluster < end; cluster++) {
            if (imrt.get(cluster) == 0) continue;
            int index = (int) (cluster >>> refblockBits);
            long blockStart = (long) index << refblockBits;
            long offset;
            if (index < reftable.length && reftable[index] != 0) {
                offset = reftable[index];
            } else {
                if (firstFree < blockStart) firstFree = blockStart;   // never inside a refblock already written
                long[] ff = {firstFree};
                offset = allocate(1, ff);
                firstFree = ff[0];
                long allocated = offset >>> clusterBits;
                if (allocated >= end) end = allocated + 1;   // the refblock describing it must be written too
                if (index >= reftable.length) {
                    int entries = (int) roundUp((index + 1L) * 8, 1L << clusterBits) / 8;
                    reftable = Arrays.copyOf(reftable, entries);
                    grown = true;
                }
                reftable[index] = offset;
            }
            byte[] block = new byte[1 << clusterBits];
            for (int i = 0; i < perBlock; i++) {
                long v = imrt.get(blockStart + i);
                if (v != 0) RefcountBlockCodec.set(block, order, i, v);
            }
            storage.write(offset, ByteBuffer.wrap(block));
            cluster = blockStart + perBlock - 1;
        }
        return grown;
    }

    /** alloc_clusters_imrt: first fit of {@code count} free clusters from firstFree[0], marked used (1). */
    private long allocate(long count, long[] firstFree) {
        long cluster = firstFree[0];
        boolean firstGap = true;
        long contiguous = 0;
        for (; cluster < nbClusters && contiguous < count; cluster++) {
            if (imrt.get(cluster) == 0) {
                contiguous++;
                if (firstGap) {
                    firstFree[0] = cluster;
                    firstGap = false;
                }
            } else {
                contiguous = 0;
            }
        }
        if (contiguous < count) nbClusters = cluster + count - contiguous;
        cluster -= contiguous;
        for (long i = 0; i < count; i++) imrt.set(cluster + i, 1);
        return cluster << clusterBits;
    }

    private static long roundUp(long v, long to) { return (v + to - 1) / to * to; }
}
