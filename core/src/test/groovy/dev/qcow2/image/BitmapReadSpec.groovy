package dev.qcow2.image

import dev.qcow2.testing.Sha256

import dev.qcow2.format.BitmapDirectoryEntry
import dev.qcow2.testing.ImageMatrix
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * Persistent bitmaps: the directory (name, granularity, flags) equals qemu-img info's, and the
 * bits we read are exactly the granules that qemu-io's writes, zero writes and discards touched
 * while the bitmap was enabled (a disabled bitmap stays empty).
 */
class BitmapReadSpec extends Specification {
    @TempDir Path dir

    /** Granules of {@code granularity} bytes touched by [offset, offset+length) ranges. */
    static Set<Long> touched(List<List<Long>> ranges, long granularity) {
        def out = new TreeSet<Long>()
        ranges.each { off, len -> (off.intdiv(granularity)..(off + len - 1).intdiv(granularity)).each { out << (long) it } }
        out
    }

    def "#label: bitmap directory equals qemu-img info and bits mark exactly the touched granules"() {
        given:
        def img = Qemu.create(dir.resolve('img.qcow2'), '4M', options)
        Qemu.img('bitmap', '--add', '-g', "$granularity", img.toString(), 'b0')
        Qemu.img('bitmap', '--add', '--disable', '-g', '4096', img.toString(), 'b1')
        def commands = ranges.collect { off, len -> "${['write', 'write -z', 'discard'][(int) (off % 3)]} $off $len" }
        Qemu.io(img, commands)
        def info = Qemu.img('info', '--output=json', img.toString()).json()['format-specific'].data.bitmaps
        def before = Sha256.of(img)

        when:
        List<BitmapDirectoryEntry> entries
        Map<String, Set<Long>> bits = [:]
        Qcow2Image.open(img).withCloseable { image ->
            entries = image.bitmaps()
            entries.each { e ->
                def reader = image.bitmap(e)
                def set = new TreeSet<Long>()
                for (long n = 0; n < reader.bitCount(); n++) if (reader.get(n)) set << n
                assert reader.countSetBits() == set.size()
                bits[e.name()] = set
            }
        }

        then: 'the directory as qemu-img info shows it'
        entries.collect { [name: it.name(), granularity: it.granularity(), flags: flagNames(it)] } ==
                info.collect { [name: it.name, granularity: it.granularity, flags: it.flags] }

        and: 'b0 recorded every granule a write, zero write or discard touched; b1 was disabled'
        bits.b0 == touched(ranges, granularity)
        bits.b1 == [] as Set
        Sha256.of(img) == before

        where:
        label                  | options             | granularity | ranges
        '64 KiB granules'      | null                | 65536       | [[70000L, 12345L], [1572864L, 262144L], [4194303L, 1L]]
        '512 B granules'       | null                | 512         | [[0L, 1L], [1000L, 3000L], [65535L, 2L], [2000001L, 99999L]]
        '2 MiB clusters'       | 'cluster_size=2M'   | 65536       | [[3L, 4000000L]]
        '512 B clusters'       | 'cluster_size=512'  | 4096        | [[100000L, 50000L], [4190000L, 4304L]]
    }

    def "a bitmap left in use by a crashed writer is still listed, with the in-use flag qemu-img info shows"() {
        given:
        def img = Qemu.create(dir.resolve('img.qcow2'), '4M', null)
        Qemu.img('bitmap', '--add', '-g', '65536', img.toString(), 'b0')
        def r = Qemu.run([Qemu.QEMU_IO, '-f', 'qcow2', '-c', 'write 0 65536', '-c', 'abort', img.toString()])
        assert r.exit != 0
        def info = Qemu.img('info', '--output=json', img.toString()).json()['format-specific'].data.bitmaps
        def before = Sha256.of(img)

        when:
        def entries = Qcow2Image.open(img).withCloseable { it.bitmaps() }

        then:
        info*.flags == [['in-use', 'auto']]
        entries*.name() == ['b0']
        entries.collect { flagNames(it) } == info*.flags
        Sha256.of(img) == before
    }

    /** The flag names qemu-img info prints, in its order. */
    static List<String> flagNames(BitmapDirectoryEntry e) {
        def out = []
        if (e.inUse()) out << 'in-use'
        if (e.auto()) out << 'auto'
        out
    }
}
