package dev.qcow2.dsl

import dev.qcow2.format.L1Entry
import dev.qcow2.image.Qcow2Image
import dev.qcow2.mapping.ClusterMapper
import dev.qcow2.refcount.Reftable
import groovy.transform.CompileStatic

/**
 * About how many bytes a check reads: the header cluster, the active and every snapshot's L1
 * table with one cluster per L2 table they point to, the refcount table with one cluster per
 * refcount block. The total of {@code check}'s progress; an estimate only (parts that cannot
 * be read count as nothing, the check reports them), so the meter clamps and finishes at it.
 */
@CompileStatic
final class MetadataSize {
    private MetadataSize() { }

    static long estimate(Qcow2Image img) {
        def h = img.header()
        long cs = h.clusterSize()
        long total = cs
        total += table(img, h.l1TableOffset(), h.l1Size(), cs)
        try {
            for (def s : img.snapshots()) total += table(img, s.l1TableOffset(), s.l1Size(), cs)
        } catch (IOException | RuntimeException ignored) {
            // a broken snapshot table: the check reports it
        }
        total + refcountTable(img, cs)
    }

    /** The refcount table, through the one reftable reader, and one cluster per refcount block. */
    private static long refcountTable(Qcow2Image img, long cs) {
        try {
            def reftable = Reftable.read(img.storage(), img.header(), Reftable.Policy.QEMU)
            long blocks = 0
            for (int i = 0; i < reftable.size(); i++) if (reftable.raw(i) != 0) blocks++
            reftable.size() * 8L + cs * blocks
        } catch (IOException | RuntimeException ignored) {
            0   // an unreadable refcount table: the check reports it
        }    }

    /** An L1 table of {@code entries} 8-byte pointers and one cluster per L2 table it names. */
    private static long table(Qcow2Image img, long offset, long entries, long cs) {
        if (entries <= 0 || entries > (1L << 28)) return 0
        try {
            long[] t = ClusterMapper.readTable(img.storage(), offset, (int) entries)
            entries * 8 + cs * t.count { long e -> (e & L1Entry.OFFSET_MASK) != 0 }
        } catch (IOException | RuntimeException ignored) {
            entries * 8
        }
    }
}
