package dev.qcow2.testing

import dev.qcow2.format.BitmapDirectory
import dev.qcow2.format.Qcow2Header
import dev.qcow2.image.Qcow2Image
import dev.qcow2.storage.FileStorage

import java.nio.ByteBuffer
import java.nio.channels.FileChannel
import java.nio.file.Path
import java.nio.file.StandardOpenOption

/** Persistent-bitmap fixtures for twin specs: what qemu-img reports and what the bits are. */
class Bitmaps {
    /** Sets IN_USE on one entry, as a QEMU that died while the image was open leaves it. */
    static void setInUse(Path img, String bitmap) {
        def entry = FileStorage.openReadOnly(img).withCloseable { s -> BitmapDirectory.read(s, Qcow2Header.read(s)).find { it.name() == bitmap } }
        FileChannel.open(img, StandardOpenOption.WRITE).withCloseable {
            it.write(ByteBuffer.allocate(4).putInt(0, entry.flags() | 1), entry.entryOffset() + 12)
        }
    }

    /** Every bitmap's set bits by name, read through our BitmapReader ('in-use' for an inconsistent one). */
    static Map<String, Object> bits(Path img) {
        Qcow2Image.open(img).withCloseable { image ->
            image.bitmaps().collectEntries { e ->
                def r = image.bitmap(e)
                [(e.name()): e.inUse() ? 'in-use' : (0..<r.bitCount()).findAll { r.get(it) }]
            }
        }
    }

    /** qemu-img info's bitmap list (name, granularity, flags), or null without bitmaps. */
    static Object info(Path img) { Qemu.img('info', '--output=json', img.toString()).json()['format-specific'].data.bitmaps }

    /**
     * qemu-img check --output=json with its exit status; without the file name and without where
     * clusters land (image-end-offset, fragmentation: QEMU's free-cluster cursor), which may differ
     * while what is allocated, leaked or corrupt may not.
     */
    static Map check(Path img) {
        def r = Qemu.img(['check', '--output=json', img.toString()], false)
        def m = new LinkedHashMap(r.json() as Map)
        ['filename', 'image-end-offset', 'fragmented-clusters'].each { m.remove(it) }
        m + [exit: r.exit]
    }
}
