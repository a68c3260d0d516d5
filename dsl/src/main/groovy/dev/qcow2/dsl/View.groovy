package dev.qcow2.dsl

import dev.qcow2.format.SnapshotEntry
import dev.qcow2.format.SnapshotTable
import dev.qcow2.image.BlockDevice
import dev.qcow2.image.ChainMap
import dev.qcow2.image.MapEntry
import dev.qcow2.image.Qcow2Image
import dev.qcow2.mapping.ClusterMapper
import dev.qcow2.units.GuestOffset
import dev.qcow2.view.MappingViews

/**
 * The disk as one state shows it: the active state, or an internal snapshot
 * ({@code snapshot('a')}), read-only. Every read command works on a view: {@code map},
 * {@code walk}, {@code read}, {@code cluster}, {@code find}, {@code export}. A view names its
 * snapshot and looks it up on each use, so it stays valid while the session changes the image.
 */
class View {
    final Session session
    /** null for the active state */
    final String snapshotName

    View(Session session, String snapshotName) {
        this.session = session
        this.snapshotName = snapshotName
    }

    boolean isActive() { snapshotName == null }

    SnapshotEntry entry() { active ? null : session.snapshotEntry(snapshotName) }

    /** What guests read through this view (backing file included when the session follows it). */
    BlockDevice device() {
        Qcow2Image img = session.image()
        active ? img : Guard.run { img.snapshot(entry()) }
    }

    /** This state's L1 table. */
    long[] l1Table() {
        Qcow2Image img = session.image()
        if (active) return img.mapper().l1Table()
        SnapshotEntry s = entry()
        Guard.run {
            SnapshotTable.validateL1(img.describe(), s, img.header().clusterSize())
            ClusterMapper.readTable(img.storage(), s.l1TableOffset(), (int) s.l1Size())
        }
    }

    /** Guest-to-host lookups through this state's L1 table. */
    ClusterMapper mapper() {
        Qcow2Image img = session.image()
        if (active) return img.mapper()
        Guard.run { img.mapper(entry()) }
    }

    /** "guest" or "guest@a": the space offsets of this view are in. */
    String getSpace() { active ? 'guest' : "guest@$snapshotName" }

    String toString() { active ? "active state of ${session.label}" : "snapshot '$snapshotName' of ${session.label}" }

    // ---- read commands ------------------------------------------------------------------

    /** qemu-img map's ranges for this state (whole chain, merged as qemu-img prints them). */
    Table getMap() {
        Guard.run {
            BlockDevice dev = device()
            def t = Table.of("map of $space", [Column.hex('start'), Column.bytes('length'), Column.plain('depth'),
                    Column.plain('present'), Column.plain('zero'), Column.plain('data'), Column.plain('compressed'),
                    Column.hex('offset'), Column.plain('file')], 'map-extent')
            for (MapEntry e : ChainMap.walk(dev, 0, dev.size())) {
                t.add(e.start(), e.length(), e.depth(), e.present(), e.zero(), e.data(), e.compressed(),
                        e.hasOffset() ? e.offset() : null, e.filename())
            }
            t.build()
        }
    }

    Table walk(Level level) { walk([:], level) }

    /**
     * {@code walk l1} / {@code walk l2}: the mapping tables of this state, entry by entry, as the
     * core builds them for {@code qcow2 dump l1|l2} ({@link MappingViews}). {@code walk l2} lists
     * the non-empty entries of every allocated L2 table ({@code all: true}: every entry up to the
     * virtual size); {@code at: OFFSET} the one entry mapping that guest offset, even unallocated.
     */
    Table walk(Map options, Level level) {
        Options.check(options, 'walk', ['at', 'from', 'all'])
        def img = session.image()
        Guard.run {
            def state = new MappingViews.State(img, active ? null : entry())
            if (level == Level.L1) return Table.from(MappingViews.l1(state))
            if (options.containsKey('at')) {
                long at = Sizes.parse(options.at, 'at')
                if (at >= img.size()) throw new DslException("walk: guest offset ${Sizes.hex(at)} is past the end of the disk (${img.size()} bytes)")
                return Table.from(MappingViews.l2At(state, new GuestOffset(at)))
            }
            Table.from(MappingViews.l2(state, new MappingViews.L2Selection(null, options.all as boolean)))
        }
    }

    Hexdump read(Object offset, Object length) { read([:], offset, length) }

    /** {@code read 0x10000, 512} (guest bytes) or {@code read 0x50000, 512, host: true} (bytes of the image file). */
    Hexdump read(Map options, Object offset, Object length) {
        Options.check(options, 'read', ['host', 'from'])
        long off = Sizes.parse(offset, 'offset')
        long len = Sizes.parse(length, 'length')
        if (len > Integer.MAX_VALUE - 8) throw new DslException("read: at most 2 GiB at a time, not $len bytes")
        Guard.run {
            if (options.host) {
                def storage = session.image().storage()
                if (off + len > storage.size()) {
                    throw new DslException("read: host bytes ${Sizes.hex(off)}+$len are past the end of ${storage.describe()} (${storage.size()} bytes)")
                }
                return new Hexdump('host', off, storage.read(off, (int) len))
            }
            BlockDevice dev = device()
            if (off + len > dev.size()) {
                throw new DslException("read: guest bytes ${Sizes.hex(off)}+$len are past the end of the disk (${dev.size()} bytes)")
            }
            new Hexdump(space, off, dev.read(off, (int) len))
        }
    }

    Hexdump cluster(Object n) { cluster([:], n) }

    /** Guest cluster {@code n} (or host cluster {@code n} with {@code host: true}) as a hexdump. */
    Hexdump cluster(Map options, Object n) {
        Options.check(options, 'cluster', ['host', 'from'])
        long index = Sizes.parse(n, 'cluster')
        long cs = session.image().header().clusterSize()
        long limit = options.host ? session.image().storage().size() : device().size()
        if (index * cs >= limit) {
            throw new DslException("cluster $index is past the end of the ${options.host ? 'image file' : 'disk'} (${(limit + cs - 1).intdiv(cs)} clusters)")
        }
        read(options, index * cs, Math.min(cs, limit - index * cs))
    }

    Table find(Object pattern) { find([:], pattern) }

    Table find(Map options, Object pattern) {
        Options.check(options, 'find', ['host', 'from', 'limit'])
        Guard.run { Finder.find(this, options, pattern) }
    }

    /** {@code snapshot('s1').vmstate}: the VM state savevm stored with this snapshot (summary, {@code .ram}, {@code .export}). */
    VmStateRecord getVmstate() { VmStateRecord.of(this) }

    /** {@code snapshot('a').export 'a.raw'}: this state's guest bytes as a raw image (a qcow2 one for a name ending in .qcow2). */
    Record export(Object to) { Exporter.exportView(this, to) }

    /** {@code snapshot('a').export 'a.img', format: 'qcow2', compress: true}; options as {@code export}'s. */
    Record export(Map options, Object to) { Exporter.exportView(this, to, options) }
}
