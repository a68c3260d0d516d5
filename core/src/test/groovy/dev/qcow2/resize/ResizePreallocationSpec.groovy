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
 * and the same host layout: {@code qemu-img map} output (host offsets, and which preallocated
 * clusters read as holes), file length and bytes, and allocated size (see {@link #sameAllocation}).
 */
class ResizePreallocationSpec extends Specification {
    @TempDir Path dir

    def "grow #options #oldSize +#delta with preallocation=#mode#what: as qemu-img resize"() {
        given:
        def extra = backing ? ['-b', base().toString(), '-F', 'qcow2'] : []
        def io = ["write -P 0x5a 0 ${(oldSize >> 1) & ~511L}", "write -P 0x33 ${oldSize - 1536} 1536", "write -P 0x44 ${oldSize >> 2} 4096"]
        def (ours, twin) = ['ours.qcow2', 'twin.qcow2'].collect { name ->
            def image = Qemu.create(dir.resolve(name), "$oldSize", options, extra)
            Qemu.io(image, io)
            if (snapshot) {
                Qemu.img('snapshot', '-c', 's1', image.toString())
                Qemu.io(image, "write -P 0x77 ${oldSize >> 3} 8192")
            }
            image
        }
        if (snapshot) sameSnapshotDate(ours, twin)
        long newSize = oldSize + delta

        when:
        Qcow2Writer.open(ours, WriteOptions.defaults()).withCloseable { w -> Resizer.resize(w, newSize, Preallocation.parse(mode).get()) }
        Qemu.img('resize', '-q', "--preallocation=$mode", twin.toString(), "+$delta")

        then:
        def check = Qemu.img(['check', ours.toString()], false)
        check.exit == 0
        Qemu.img(['compare', '-f', 'qcow2', '-F', 'qcow2', ours.toString(), twin.toString()], false).exit == 0
        !layout || map(ours) == map(twin)
        !layout || sameAllocation(ours, twin, options, newSize)
        !layout || ours.toFile().length() == twin.toFile().length()
        !layout || Sha256.of(ours) == Sha256.of(twin)

        where:
        options                                 | oldSize     | delta        | mode       | snapshot | backing | layout
        'cluster_size=65536'                    | 1000 << 10  | 1500 << 10   | 'metadata' | false    | false | true
        'cluster_size=65536'                    | 1000 << 10  | 1500 << 10   | 'falloc'   | false    | false | true
        'cluster_size=65536'                    | 1000 << 10  | 1500 << 10   | 'full'     | false    | false | true
        'cluster_size=65536'                    | 1 << 20     | 3 << 20      | 'metadata' | false    | false | true
        'cluster_size=65536'                    | 1 << 20     | 3 << 20      | 'falloc'   | false    | false | true
        'cluster_size=4096'                     | 1000 << 10  | (2 << 20) + 512 | 'metadata' | true  | false | true
        'cluster_size=4096'                     | 1000 << 10  | (2 << 20) + 512 | 'falloc' | true    | false | true
        'cluster_size=4096'                     | 1000 << 10  | (2 << 20) + 512 | 'full'   | true    | false | true
        'extended_l2=on,cluster_size=16384'     | 1000 << 10  | 3 << 20      | 'metadata' | false    | false | true
        'extended_l2=on,cluster_size=16384'     | 1000 << 10  | 3 << 20      | 'falloc'   | true     | false | true
        'extended_l2=on,cluster_size=16384'     | 1000 << 10  | (3 << 20) + 1536 | 'metadata' | true | false | true
        'extended_l2=on'                        | 1000 << 10  | (1 << 20) + 512 | 'metadata' | false | true | true
        'extended_l2=on'                        | 1000 << 10  | (1 << 20) + 512 | 'full'   | true    | true | true
        'extended_l2=on,cluster_size=16384'     | 1000 << 10  | 3 << 20      | 'falloc'   | false    | true | true
        'cluster_size=4096'                     | 1000 << 10  | 2 << 20      | 'metadata' | false    | true | true
        'cluster_size=4096'                     | 1000 << 10  | 2 << 20      | 'full'     | false    | true | true
        'cluster_size=512'                      | 1 << 20     | 10 << 20     | 'falloc'   | false    | false | true // a new refcount table
        'cluster_size=512'                      | 1 << 20     | 10 << 20     | 'metadata' | false    | false | false // the refcount table grows: the writer lays its new table out its own way (ReftableGrowth), not as QEMU's alloc_refcount_block
        'cluster_size=2048,refcount_bits=4'     | 100 << 10   | 5 << 20      | 'full'     | true     | false | true
        'compat=0.10,cluster_size=4096'         | 1000 << 10  | 1 << 20      | 'falloc'   | false    | false | true
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

    /**
     * The twins were made by the same qemu-img and qemu-io commands (a copy would change which
     * zero blocks are holes); only the snapshot's creation time differs: ours gets the twin's.
     */
    private static void sameSnapshotDate(Path ours, Path twin) {
        def twinBytes = java.nio.ByteBuffer.wrap(java.nio.file.Files.readAllBytes(twin))
        long table = twinBytes.getLong(64)                  // snapshots_offset
        byte[] date = new byte[8]                           // date_sec, date_nsec of the first entry
        twinBytes.get((int) table + 16, date)
        new RandomAccessFile(ours.toFile(), 'rw').withCloseable { it.seek(table + 16); it.write(date) }
    }

    /**
     * The same allocated size, up to the metadata clusters QEMU writes whole from its caches
     * (refcount table and blocks, L1 and L2 tables) where we write only the entries that
     * changed, leaving the rest of such a cluster a hole when it was one (and a file-system
     * block or so either way).
     */
    private static boolean sameAllocation(Path ours, Path twin, String options, long newSize) {
        long cs = (options =~ /cluster_size=(\d+)/).with { it.find() ? it.group(1) as long : 65536L }
        long l2Span = cs * cs.intdiv(options.contains('extended_l2=on') ? 16 : 8)
        long slack = (4 + (newSize + l2Span - 1).intdiv(l2Span)) * cs
        long diff = AllocatedBytes.statBlocks(twin) - AllocatedBytes.statBlocks(ours)
        assert Math.abs(diff) <= slack: "allocated bytes: ours ${AllocatedBytes.statBlocks(ours)}, qemu's ${AllocatedBytes.statBlocks(twin)}"
        true
    }

    /** qemu-img map's JSON, as text (host offsets included). */
    private static String map(Path image) { Qemu.img('map', '--output=json', image.toString()).out }
}
