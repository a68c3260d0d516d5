package dev.qcow2.dsl

import dev.qcow2.format.RefcountBlockCodec
import dev.qcow2.image.Qcow2Image
import dev.qcow2.mapping.ClusterMapper
import groovy.transform.CompileStatic

/**
 * The refcounts recorded in the image (qcow2.rst "Host cluster management"), read as QEMU's
 * qcow2_get_refcount does: a cluster past the refcount table, or under a reftable entry of 0,
 * has refcount 0; the reftable entry's low 9 bits are reserved and masked off. An unaligned
 * refblock offset reads as null (unreadable). Refblocks are read once each.
 * (The core has the same reader package-private in dev.qcow2.check; a candidate to make public.)
 */
@CompileStatic
final class OnDiskRefcounts {
    private final Qcow2Image image
    private final long[] reftable
    private final int refblockBits
    private final Map<Long, byte[]> blocks = [:]

    OnDiskRefcounts(Qcow2Image image) {
        this.image = image
        def h = image.header()
        int entries = (int) (h.refcountTableClusters() * h.clusterSize() / 8)
        this.reftable = ClusterMapper.readTable(image.storage(), h.refcountTableOffset(), entries)
        this.refblockBits = h.clusterBits() + 3 - h.refcountOrder()
    }

    long[] reftable() { reftable }

    /** Host offset of refcount block {@code i}, 0 if none. */
    long refblockOffset(int i) { reftable[i] & ~511L }

    /** The refcount of host cluster {@code cluster}; null when its refblock offset is unaligned. */
    Long get(long cluster) {
        long rt = cluster >>> refblockBits
        if (rt >= reftable.length) return 0L
        long block = refblockOffset((int) rt)
        if (block == 0) return 0L
        def h = image.header()
        if (!h.geometry().isClusterAligned(block)) return null
        byte[] data = blocks.get(rt)
        if (data == null) {
            data = image.storage().read(block, h.clusterSize())
            blocks.put(rt, data)
        }
        RefcountBlockCodec.get(data, h.refcountOrder(), cluster & ((1L << refblockBits) - 1))
    }

    /** Host clusters the refcount table can describe up to the end of the file. */
    long clustersInFile() { image.geometry().clustersCovering(image.storage().size()) }
}
