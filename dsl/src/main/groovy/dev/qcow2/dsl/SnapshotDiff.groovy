package dev.qcow2.dsl

import dev.qcow2.units.GuestOffset
import dev.qcow2.format.L1Entry
import dev.qcow2.format.L2Entry
import dev.qcow2.mapping.ClusterMapper
import dev.qcow2.units.ClusterGeometry
import dev.qcow2.view.MappingViews
import groovy.transform.CompileStatic

/**
 * Which guest clusters read differently in two states of one image, and how. A cluster whose L2
 * entries are the same in both (same descriptor apart from COPIED, e.g. shared since the
 * snapshot) or whose L2 tables are shared is the same without reading it; every other cluster
 * is read in both states (backing file included) and listed when its bytes differ:
 * <ul>
 *   <li>added: not allocated before (read from the backing file or zeros), data now;</li>
 *   <li>discarded: data before, not allocated now;</li>
 *   <li>zeroed: reads as zeros now by a zero entry;</li>
 *   <li>changed: anything else (both have data; or compressed and rewritten).</li>
 * </ul>
 * {@code before} and {@code after} are the entries' kinds as {@code walk l2} names them.
 * {@code bytes} counts the bytes that differ, so the listed clusters are exactly those where a
 * byte-for-byte comparison of the two disks (qemu-img convert -l, compare) differs.
 * Progress: guest bytes compared; Ctrl-C stops between clusters.
 */
@CompileStatic
final class SnapshotDiff {
    private SnapshotDiff() { }

    static Table diff(View before, View after) {
        Guard.run {
            def img = before.session.image()
            def geo = img.geometry()
            int cs = geo.clusterSize()
            ClusterMapper a = before.mapper(), b = after.mapper()
            long[] l1a = a.l1Table(), l1b = b.l1Table()
            def devA = before.device(), devB = after.device()
            long size = Math.min(devA.size(), devB.size())
            def t = Table.of("diff ${before.space} → ${after.space}", [Column.hex('guest_offset'), Column.plain('cluster'),
                    Column.plain('change'), Column.plain('bytes'), Column.plain('before'), Column.plain('after')], 'snapshot-change')
            byte[] x = new byte[cs], y = new byte[cs]
            long perL2 = geo.bytesPerL2Table()
            def meter = Meter.start(before.session, 'diff', size)
            for (long off = 0; off < size; off += cs) {
                Meter.cancelPoint()
                int i = (int) (off / perL2)
                long l2a = i < l1a.length ? l1a[i] & L1Entry.OFFSET_MASK : 0
                long l2b = i < l1b.length ? l1b[i] & L1Entry.OFFSET_MASK : 0
                if (l2a == l2b) {
                    // one L2 table (or none) for the whole range: identical mappings
                    long end = Math.min(size, (i + 1L) * perL2)
                    meter.advance(end - off)
                    off = end - cs
                    continue
                }
                meter.advance(Math.min(cs, size - off))
                L2Entry ea = a.entry(GuestOffset.of(off)), eb = b.entry(GuestOffset.of(off))
                if (same(ea, eb)) continue
                int n = (int) Math.min(cs, size - off)
                devA.read(off, x, 0, n)
                devB.read(off, y, 0, n)
                long differ = 0
                for (int k = 0; k < n; k++) if (x[k] != y[k]) differ++
                if (differ == 0) continue
                t.add(off, off.intdiv(cs), change(ea, eb, geo), differ, kind(ea), kind(eb))
            }
            meter.finish()
            t.build()
        }
    }

    private static boolean same(L2Entry a, L2Entry b) {
        if (a == null || b == null) return a == null && b == null
        (a.raw() & ~L2Entry.COPIED) == (b.raw() & ~L2Entry.COPIED) && a.bitmap() == b.bitmap()
    }

    /** The entry's kind as {@code walk l2} names it (QEMU's cluster types); no L2 table: unallocated. */
    static String kind(L2Entry e) { e == null ? 'unallocated' : MappingViews.kind(e) }

    private static String change(L2Entry before, L2Entry after, ClusterGeometry geo) {
        String was = state(before, geo), now = state(after, geo)
        if (now == 'zero') return 'zeroed'
        if (was == 'unallocated' && now != 'unallocated') return 'added'
        if (was != 'unallocated' && now == 'unallocated') return 'discarded'
        'changed'
    }

    /** zero: every subcluster reads as zeros from the entry ({@code walk l2}'s zero column); unallocated; or data. */
    private static String state(L2Entry e, ClusterGeometry geo) {
        if (e == null) return 'unallocated'
        if (MappingViews.readsAsZero(e, geo)) return 'zero'
        e instanceof L2Entry.Unallocated ? 'unallocated' : 'data'
    }
}
