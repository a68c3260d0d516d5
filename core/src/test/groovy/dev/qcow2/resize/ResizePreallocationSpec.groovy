package dev.qcow2.resize

import dev.qcow2.create.Preallocation
import dev.qcow2.storage.AllocatedBytes
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import dev.qcow2.write.Qcow2Writer
import dev.qcow2.write.WriteOptions
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * {@code resize --preallocation=metadata|falloc|full} against qemu-img resize on twin images
 * (same qemu-img create, same qemu-io writes, same snapshot): clean check, equal guest bytes,
 * and the same host layout: {@code qemu-img map} output, file bytes and allocated size.
 */
class ResizePreallocationSpec extends Specification {
    @TempDir Path dir

    def "grow #options #oldSize +#delta with preallocation=#mode#what: as qemu-img resize"() {
        given:
        def extra = backing ? ['-b', base().toString(), '-F', 'qcow2'] : []
        def io = ["write -P 0x5a 0 ${(oldSize >> 1) & ~511L}", "write -P 0x33 ${oldSize - 1536} 1536", "write -P 0x44 ${oldSize >> 2} 4096"]
        def (ours, twin) = twins(options, oldSize, io, extra)
        if (snapshot) [ours, twin].each {
            Qemu.img('snapshot', '-c', 's1', it.toString())
            Qemu.io(it, "write -P 0x77 ${oldSize >> 3} 8192")
        }
        long newSize = oldSize + delta

        when:
        Qcow2Writer.open(ours, WriteOptions.defaults()).withCloseable { w -> Resizer.resize(w, newSize, Preallocation.parse(mode).get()) }
        Qemu.img('resize', '-q', "--preallocation=$mode", twin.toString(), "+$delta")

        then:
        def check = Qemu.img(['check', ours.toString()], false)
        check.exit == 0
        Qemu.img(['compare', '-f', 'qcow2', '-F', 'qcow2', ours.toString(), twin.toString()], false).exit == 0
        map(ours) == map(twin)
        AllocatedBytes.statBlocks(ours) == AllocatedBytes.statBlocks(twin)
        ours.toFile().length() == twin.toFile().length()
        Sha256.of(ours) == Sha256.of(twin)

        where:
        options                                 | oldSize     | delta        | mode       | snapshot | backing
        'cluster_size=65536'                    | 1000 << 10  | 1500 << 10   | 'metadata' | false    | false
        'cluster_size=65536'                    | 1000 << 10  | 1500 << 10   | 'falloc'   | false    | false
        'cluster_size=65536'                    | 1000 << 10  | 1500 << 10   | 'full'     | false    | false
        'cluster_size=65536'                    | 1 << 20     | 3 << 20      | 'metadata' | false    | false
        'cluster_size=65536'                    | 1 << 20     | 3 << 20      | 'falloc'   | false    | false
        'cluster_size=4096'                     | 1000 << 10  | (2 << 20) + 512 | 'metadata' | true  | false
        'cluster_size=4096'                     | 1000 << 10  | (2 << 20) + 512 | 'falloc' | true    | false
        'cluster_size=4096'                     | 1000 << 10  | (2 << 20) + 512 | 'full'   | true    | false
        'extended_l2=on,cluster_size=16384'     | 1000 << 10  | 3 << 20      | 'metadata' | false    | false
        'extended_l2=on,cluster_size=16384'     | 1000 << 10  | 3 << 20      | 'falloc'   | true     | false
        'extended_l2=on,cluster_size=16384'     | 1000 << 10  | 3 << 20      | 'falloc'   | false    | true
        'cluster_size=4096'                     | 1000 << 10  | 2 << 20      | 'metadata' | false    | true
        'cluster_size=4096'                     | 1000 << 10  | 2 << 20      | 'full'     | false    | true
        'cluster_size=512'                      | 1 << 20     | 10 << 20     | 'falloc'   | false    | false   // a new refcount table
        'cluster_size=512'                      | 1 << 20     | 10 << 20     | 'metadata' | false    | false   // refcount table grows
        'cluster_size=2048,refcount_bits=4'     | 100 << 10   | 5 << 20      | 'full'     | true     | false
        'compat=0.10,cluster_size=4096'         | 1000 << 10  | 1 << 20      | 'falloc'   | false    | false
        what = (snapshot ? ' with a snapshot' : '') + (backing ? ' over a longer backing file' : '')
    }

    def "preallocation cannot shrink: refused as qemu refuses, the file unchanged"() {
        given:
        def img = Qemu.create(dir.resolve('s.qcow2'), '2M', 'cluster_size=4096')
        def sha = Sha256.of(img)

        when:
        Qcow2Writer.open(img, WriteOptions.defaults()).withCloseable { w -> Resizer.resize(w, 1 << 20, Preallocation.FALLOC) }

        then:
        def e = thrown(dev.qcow2.Qcow2Exception)
        e.message.endsWith("Preallocation can't be used for shrinking an image")
        Sha256.of(img) == sha
    }

    private Path base() {
        def b = dir.resolve('base.qcow2')
        if (!b.toFile().exists()) {
            Qemu.create(b, '8M', 'cluster_size=4096')
            Qemu.io(b, 'write -P 0x11 0 8M')
        }
        b
    }

    private List<Path> twins(String options, long size, List<String> io, List<String> extra) {
        def ours = Qemu.create(dir.resolve('ours.qcow2'), "$size", options, extra)
        def twin = Qemu.create(dir.resolve('twin.qcow2'), "$size", options, extra)
        [ours, twin].each { Qemu.io(it, io) }
        [ours, twin]
    }

    /** qemu-img map's JSON, as text (host offsets included). */
    private static String map(Path image) { Qemu.img('map', '--output=json', image.toString()).out }
}
