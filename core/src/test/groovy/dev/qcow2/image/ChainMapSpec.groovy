package dev.qcow2.image

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

class ChainMapSpec extends Specification {
    @TempDir Path dir

    private List<Map> ours(Path img) {
        Qcow2Image.open(img, OpenOptions.permissive()).withCloseable { image ->
            ChainMap.walk(image, 0, image.size()).collect { e ->
                def m = [start: e.start(), length: e.length(), depth: e.depth(), present: e.present(), zero: e.zero(), data: e.data()]
                if (e.hasOffset()) m.offset = e.offset()
                m
            }
        }
    }

    def "a 3-deep chain maps like qemu-img: depth, present and zero per layer"() {
        given:
        def base = Qemu.create(dir.resolve('base.qcow2'), '4M')
        Qemu.io(base, 'write -P 1 0 1M')
        def mid = Qemu.create(dir.resolve('mid.qcow2'), '4M', 'backing_file=base.qcow2,backing_fmt=qcow2')
        Qemu.io(mid, 'write -P 2 512k 1M', 'write -z 0 64k')
        def top = Qemu.create(dir.resolve('top.qcow2'), '4M', 'backing_file=mid.qcow2,backing_fmt=qcow2')
        Qemu.io(top, 'write -P 3 1M 64k')

        when:
        def map = ours(top)

        then:
        map == Qemu.img('map', '--output=json', top.toString()).json()
        map.find { it.start == 0 } == [start: 0, length: 65536, depth: 1, present: true, zero: true, data: false]
        map.last().depth == 2
        !map.last().present
    }

    def "past the end of a shorter backing file the overlay reads zero at its own depth"() {
        given:
        def base = Qemu.create(dir.resolve('short.qcow2'), '1M')
        Qemu.io(base, 'write -P 1 0 1M')
        def top = Qemu.create(dir.resolve('long.qcow2'), '3M', 'backing_file=short.qcow2,backing_fmt=qcow2')

        when:
        def map = ours(top)

        then:
        map == Qemu.img('map', '--output=json', top.toString()).json()
        map.last() == [start: 1048576, length: 2097152, depth: 0, present: false, zero: true, data: false]
    }

    def "a window of the map starts and ends where asked"() {
        given:
        def img = Qemu.create(dir.resolve('w.qcow2'), '4M')
        Qemu.io(img, 'write -P 1 0 1M')

        when:
        def entries = Qcow2Image.open(img, OpenOptions.permissive()).withCloseable { ChainMap.walk(it, 65536, 131072) }

        then:
        entries.size() == 1
        entries[0].start() == 65536
        entries[0].length() == 131072
        entries[0].data()
    }

    def "neighbours merge only with contiguous host offsets"() {
        expect:
        new MapEntry(0, 512, 0, true, false, true, false, 1024, 'f').mergeableWith(
                new MapEntry(512, 512, 0, true, false, true, false, offset, 'f')) == merges

        where:
        offset | merges
        1536   | true
        4096   | false
    }
}
