package dev.qcow2.dsl

import dev.qcow2.format.BitmapDirectoryEntry
import dev.qcow2.write.PersistentBitmap

/**
 * {@code bitmap('b0')}: one persistent dirty bitmap. {@code .dirty} is the table of guest ranges
 * its set bits cover; on a writable image {@code .add}, {@code .remove}, {@code .clear},
 * {@code .enable}, {@code .disable} and {@code .merge 'other'} change it as {@code qemu-img bitmap}
 * does. While an image is open for writing its bitmaps live in the writer (the file marks them
 * in use, as QEMU does) and every write sets their bits; they are stored when the image is closed.
 */
class BitmapOps {
    private final Session session
    final String name

    BitmapOps(Session session, String name) {
        this.session = session
        this.name = name
    }

    /** The guest ranges whose bits are set: start, end, length. */
    Table getDirty() {
        Guard.run {
            List<long[]> ranges
            if (session.writable) {
                PersistentBitmap b = session.writer().bitmaps().find(name).orElseThrow { unknown() }
                if (b.inconsistent()) throw new DslException("bitmap '$name' is in use (inconsistent): its bits are unknown")
                ranges = b.dirtyRanges()
            } else {
                def img = session.image()
                BitmapDirectoryEntry e = img.bitmaps().find { it.name() == name }
                if (e == null) throw unknown()
                if (e.inUse()) throw new DslException("bitmap '$name' is in use (inconsistent): its bits are unknown")
                ranges = img.bitmap(e).dirtyRanges()
            }
            long size = session.writable ? session.writer().size() : session.image().size()
            def t = Table.of("dirty ranges of bitmap '$name'", [Column.hex('start'), Column.hex('end'), Column.bytes('length')])
            for (long[] r : ranges) {
                long end = Math.min(r[1], size)
                t.add(r[0], end, end - r[0])
            }
            t.build()
        }
    }

    /** Creates the bitmap: {@code add()}, {@code add granularity: '4k'}, {@code add disabled: true}. */
    Record add(Map options = [:]) {
        long g = options.granularity == null ? 0 : Sizes.parse(options.granularity, 'granularity')
        change { it.add(name, g, !options.disabled) }
        def b = session.writer().bitmaps().find(name).get()
        new Record('bitmap added', [name: name, granularity: b.granularity(), enabled: b.enabled()])
    }

    Record remove() { change { it.remove(name) }; new Record('bitmap removed', [name: name]) }

    Record clear() { change { it.clear(name) }; new Record('bitmap cleared', [name: name]) }

    Record enable() { change { it.enable(name) }; new Record('bitmap enabled', [name: name]) }

    Record disable() { change { it.disable(name) }; new Record('bitmap disabled', [name: name]) }

    /** ORs the bits of bitmap {@code source} of this image into this one. */
    Record merge(String source) { change { it.merge(name, source) }; new Record('bitmap merged', [name: name, source: source]) }

    private void change(Closure op) {
        session.requireWritable()
        Guard.run { op.call(session.writer().bitmaps()) }
    }

    private DslException unknown() {
        new DslException("no bitmap '$name'; known: ${session.bitmapNames() ?: 'none'}")
    }

    String toString() { dirty.toString() }
}
