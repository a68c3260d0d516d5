package dev.qcow2.dsl

import dev.qcow2.units.HostOffset
import dev.qcow2.format.HeaderExtension
import dev.qcow2.format.L1Entry
import dev.qcow2.format.L2Entry
import dev.qcow2.format.SnapshotEntry
import dev.qcow2.image.Qcow2Image
import dev.qcow2.mapping.ClusterMapper
import dev.qcow2.units.ClusterGeometry

/**
 * Who references one host cluster: the same walk as the check's reference count (header, L1 and
 * L2 tables and data of the active state and of every snapshot, snapshot table, refcount table
 * and blocks, LUKS header, bitmap directory), keeping names instead of counts.
 * Bitmap tables and bitmap data clusters are not named (they show only in the counts).
 */
final class ClusterOwners {
    private ClusterOwners() { }

    static List<String> of(Qcow2Image img, long cluster) {
        def h = img.header()
        ClusterGeometry geo = img.geometry()
        int bits = geo.clusterBits()
        List<String> out = []
        def covers = { long offset, long length -> length > 0 && offset >>> bits <= cluster && (offset + length - 1) >>> bits >= cluster }
        if (cluster == 0) out << 'header'
        tree(img, img.mapper().l1Table(), h.l1TableOffset(), 'active', cluster, covers, out)
        for (SnapshotEntry s : img.snapshots()) {
            long[] l1 = ClusterMapper.readTable(img.storage(), s.l1TableOffset(), (int) s.l1Size())
            tree(img, l1, s.l1TableOffset(), "snapshot '${s.name()}'", cluster, covers, out)
        }
        if (h.nbSnapshots() > 0 && covers(h.snapshotsOffset(), img.snapshots().sum { SnapshotEntry s -> s.length() + 7 & ~7L } as long)) {
            out << 'snapshot table'
        }
        if (covers(h.refcountTableOffset(), h.refcountTableClusters() << bits)) out << 'refcount table'
        def refs = new OnDiskRefcounts(img)
        refs.reftable().eachWithIndex { long raw, int i ->
            if (raw != 0 && covers(raw & ~511L, 1L << bits)) out << "refcount block $i".toString()
        }
        h.extension(HeaderExtension.CryptoHeader).ifPresent { c ->
            if (covers(c.headerOffset(), c.headerLength())) out << 'LUKS header'
        }
        h.extension(HeaderExtension.Bitmaps).ifPresent { b ->
            if (covers(b.directoryOffset(), b.directorySize())) out << 'bitmap directory'
        }
        out
    }

    private static void tree(Qcow2Image img, long[] l1, long l1Offset, String state, long cluster, Closure<Boolean> covers,
                             List<String> out) {
        ClusterGeometry geo = img.geometry()
        if (covers(l1Offset, 8L * l1.length)) out << "L1 table ($state)".toString()
        for (int i = 0; i < l1.length; i++) {
            long l2 = l1[i] & L1Entry.OFFSET_MASK
            if (l2 == 0) continue
            if (covers(l2, geo.clusterSize())) out << "L2 table $i ($state)".toString()
            long[] table = img.mapper().l2Table(HostOffset.of(l2))
            for (int j = 0; j < geo.l2Entries(); j++) {
                long raw = geo.extendedL2() ? table[2 * j] : table[j]
                if (raw == 0) continue
                def e = L2Entry.decode(raw, geo.extendedL2() ? table[2 * j + 1] : 0, geo, img.header().hasExternalDataFile())
                long guest = ((long) i * geo.l2Entries() + j) << geo.clusterBits()
                if (e instanceof L2Entry.Normal && !img.header().hasExternalDataFile() && covers(e.hostOffset(), geo.clusterSize())) {
                    out << "data of guest ${Sizes.hex(guest)} ($state)".toString()
                } else if (e instanceof L2Entry.Zero && e.preallocated() && covers(e.hostOffset(), geo.clusterSize())) {
                    out << "preallocated zero cluster of guest ${Sizes.hex(guest)} ($state)".toString()
                } else if (e instanceof L2Entry.Compressed && covers(e.firstHostByte(), e.lastHostByte() - e.firstHostByte() + 1)) {
                    out << "compressed data of guest ${Sizes.hex(guest)} ($state)".toString()
                }
            }
        }
    }
}
