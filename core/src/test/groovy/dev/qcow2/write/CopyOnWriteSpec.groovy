package dev.qcow2.write

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** Partial writes that must copy the untouched part from a backing file or a snapshot-shared cluster. */
class CopyOnWriteSpec extends Specification {
    @TempDir Path dir

    def "partial writes over a backing file copy its data (#options)"() {
        given: 'a backing file full of data and an empty overlay'
        long size = 3 * 1024 * 1024
        def base = Qemu.create(dir.resolve('base.qcow2'), "$size")
        byte[] baseData = Mirror.pattern(7, (int) size)
        def baseRaw = dir.resolve('base.raw')
        Files.write(baseRaw, baseData)
        Qemu.img('convert', '-n', '-f', 'raw', '-O', 'qcow2', baseRaw.toString(), base.toString())
        def top = Qemu.create(dir.resolve('top.qcow2'), "$size", options, ['-b', base.toString(), '-F', 'qcow2'])
        int cs = WriteShapesSpec.clusterSize(options)
        def mirror = new Mirror(size, cs, options.contains('compat=0.10') ? 2 : 3, baseData)

        when:
        Qcow2Writer.open(top, WriteOptions.defaults()).withCloseable { w ->
            [[100L, 50], [(long) cs * 2 - 10, 30], [(long) cs * 7 + 1000, cs * 2], [size - 600, 600]].eachWithIndex { s, i ->
                byte[] data = Mirror.pattern(100 + i, (int) s[1])
                w.write(s[0], data)
                mirror.write(s[0], data)
            }
        }

        then:
        mirror.verify(top, dir)

        where:
        options << ['cluster_size=65536', 'cluster_size=4096', 'compat=0.10', 'extended_l2=on', 'extended_l2=on,cluster_size=32768']
    }

    def "writes after a qemu-img snapshot never touch the snapshot's clusters (#options)"() {
        given:
        long size = 2 * 1024 * 1024
        def img = Qemu.create(dir.resolve('s.qcow2'), "$size", options)
        Qemu.io(img, 'write -P 0x11 0 1M', 'write -c -P 0x22 1M 64k')
        Qemu.img('snapshot', '-c', 'snap1', img.toString())
        def before = Qemu.rawBytes(img)
        int cs = WriteShapesSpec.clusterSize(options)
        def mirror = new Mirror(size, cs)
        mirror.write(0, before)

        when:
        Qcow2Writer.open(img, WriteOptions.defaults()).withCloseable { w ->
            [[10L, 20], [(long) cs + 5, cs], [1024L * 1024 + 7, 100], [300L * 1024, 3000]].eachWithIndex { s, i ->
                byte[] data = Mirror.pattern(200 + i, (int) s[1])
                w.write(s[0], data)
                mirror.write(s[0], data)
            }
            w.writeZeroes(512L * 1024, cs)
            mirror.zero(512L * 1024, cs)
            w.discard(768L * 1024, cs * 2)
            mirror.discard(768L * 1024, cs * 2)
        }

        then: 'the active layer has the new data and the snapshot still has the old'
        mirror.verify(img, dir)
        Qemu.rawBytes(img, 'snap1') == before

        where:
        options << ['cluster_size=65536', 'cluster_size=4096', 'extended_l2=on', 'compat=0.10', 'refcount_bits=2']
    }
}
