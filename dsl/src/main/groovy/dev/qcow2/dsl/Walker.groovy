package dev.qcow2.dsl

import dev.qcow2.units.HostOffset
import dev.qcow2.format.L1Entry
import dev.qcow2.format.L2Entry
import dev.qcow2.mapping.L1Table
import dev.qcow2.units.ClusterGeometry
import dev.qcow2.walk.MetadataVisitor
import dev.qcow2.walk.MetadataWalk
import dev.qcow2.walk.Owner
import dev.qcow2.walk.Tree

/**
 * {@code walk l1} and {@code walk l2}: the mapping tables of one state, entry by entry, with the
 * refcount of the host cluster each entry points at (qcow2.rst "Cluster mapping").
 * {@code walk l2} lists, through the {@link MetadataWalk}, every entry of every allocated L2
 * table whose descriptor is not all zero ({@code all: true}: every entry); {@code at: OFFSET} gives the one entry mapping that
 * guest offset, even when it is unallocated.
 */
final class Walker {
    private Walker() { }

    static Table l1(View view) {
        def img = view.session.image()
        def refs = new OnDiskRefcounts(img)
        long[] l1 = view.l1Table()
        def t = Table.of("L1 table of ${view.space}", [Column.plain('index'), Column.hex('guest_offset'),
                Column.hex('l2_offset'), Column.plain('copied'), Column.hex('reserved_bits'), Column.plain('refcount'),
                Column.hex('raw')])
        long perL1 = img.geometry().bytesPerL2Table()
        l1.eachWithIndex { long raw, int i ->
            def e = new L1Entry(raw)
            t.add(i, i * perL1, e.allocated() ? e.l2Offset() : null, e.copied(), e.reservedBits() ?: null,
                    e.allocated() ? refs.get(e.l2Offset() >>> img.header().clusterBits()) : null, raw)
        }
        t.build()
    }

    static Table l2(View view, Map options) {
        def img = view.session.image()
        ClusterGeometry geo = img.geometry()
        boolean external = img.header().hasExternalDataFile()
        def refs = new OnDiskRefcounts(img)
        long[] l1 = view.l1Table()
        def t = Table.of("L2 entries of ${view.space}", columns(geo))
        if (options.containsKey('at')) {
            long at = Sizes.parse(options.at, 'at')
            if (at >= img.size()) throw new DslException("walk: guest offset ${Sizes.hex(at)} is past the end of the disk (${img.size()} bytes)")
            int i = (int) (at >>> (geo.clusterBits() + geo.l2Bits()))
            int j = (int) ((at >>> geo.clusterBits()) & (geo.l2Entries() - 1))
            long l2Offset = i < l1.length ? l1[i] & L1Entry.OFFSET_MASK : 0
            if (l2Offset == 0) {
                def values = [i, j, at & ~(geo.clusterSize() - 1L), null, 'unallocated', false, false, false]
                if (geo.extendedL2()) values << null
                t.add((values + [null, null, 0L]) as Object[])
            } else {
                long[] table = img.mapper().l2Table(HostOffset.of(l2Offset))
                long raw = geo.extendedL2() ? table[2 * j] : table[j]
                long bitmap = geo.extendedL2() ? table[2 * j + 1] : 0
                addEntry(t, L2Entry.decode(raw, bitmap, geo, external), i, j, geo, refs)
            }
            return t.build()
        }
        boolean all = options.all as boolean
        long perTable = geo.bytesPerL2Table()
        Tree tree = view.active ? Tree.ACTIVE : new Tree.Snapshot(view.entry().id(), view.entry().name())
        long l1Offset = view.active ? img.header().l1TableOffset() : view.entry().l1TableOffset()
        def walk = new MetadataWalk(img.storage(), img.header())
        walk.tree(tree, L1Table.fixed(HostOffset.of(l1Offset), l1),
                new MetadataVisitor<RuntimeException>() {
                    @Override
                    void range(Owner owner, long offset, long length) { }

                    @Override
                    boolean l2Entry(Tree which, long guest, int j, long entryOffset, long raw, long bitmap) {
                        if (guest < img.size() && (all || raw != 0 || bitmap != 0)) {
                            addEntry(t, walk.decode(raw, bitmap), (int) (guest / perTable), j, geo, refs)
                        }
                        false
                    }
                })
        t.build()
    }

    private static List<Column> columns(ClusterGeometry geo) {
        def cols = [Column.plain('l1_index'), Column.plain('l2_index'), Column.hex('guest_offset'), Column.hex('host_offset'),
                    Column.plain('kind'), Column.plain('copied'), Column.plain('compressed'), Column.plain('zero')]
        if (geo.extendedL2()) cols << Column.hex('subclusters')
        cols + [Column.bytes('compressed_bytes'), Column.plain('refcount'), Column.hex('raw')]
    }

    private static void addEntry(Table.Builder t, L2Entry e, int i, int j, ClusterGeometry geo, OnDiskRefcounts refs) {
        long raw = e.raw()
        long bitmap = e.bitmap()
        long guest = ((long) i * geo.l2Entries() + j) << geo.clusterBits()
        Long host = null
        String kind = 'unallocated'
        Long packed = null
        if (e instanceof L2Entry.Normal) { host = e.hostOffset(); kind = 'normal' }
        if (e instanceof L2Entry.Zero) { kind = 'zero'; if (e.preallocated()) host = e.hostOffset() }
        if (e instanceof L2Entry.Compressed) { host = e.hostOffset(); kind = 'compressed'; packed = (long) e.compressedLength() }
        // extended L2: an unallocated cluster whose subclusters all read as zero is a zero cluster too
        boolean zero = kind == 'zero' || (geo.extendedL2() && e.subcluster(0).isZero()
                && (0..<geo.subclustersPerCluster()).every { e.subcluster(it).isZero() })
        Long refcount = host == null ? null : refs.get(host >>> geo.clusterBits())
        def values = [i, j, guest, host, kind, (raw & L2Entry.COPIED) != 0, kind == 'compressed', zero]
        if (geo.extendedL2()) values << bitmap
        values += [packed, refcount, raw]
        t.add(values as Object[])
    }
}
