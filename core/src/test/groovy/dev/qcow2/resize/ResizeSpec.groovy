package dev.qcow2.resize

import dev.qcow2.testing.Sha256

import dev.qcow2.alloc.L1Growth
import dev.qcow2.testing.Qemu
import dev.qcow2.write.Mirror
import dev.qcow2.write.Qcow2Writer
import dev.qcow2.write.WriteOptions
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.file.Files
import java.nio.file.Path

/**
 * Resize against qemu-img resize on a twin image (same qemu-made image, same qemu-io writes):
 * same virtual size, same L1 size, same guest bytes, clean check; then writes past the old end.
 */
class ResizeSpec extends Specification {
    @TempDir Path dir

    def "grow #options from #oldSize to #newSize: like qemu-img resize, then writable past the old end"() {
        given:
        def (ours, twin) = twins(options, "$oldSize", ['write -P 0x5a 0 ' + (oldSize - 512).intdiv(2), "write -P 0x33 ${oldSize - 1024} 1024"])

        when:
        resize(ours, newSize)
        Qemu.img('resize', '-q', twin.toString(), "$newSize")

        then:
        sameAsTwin(ours, twin, newSize)

        when: 'data written past the old end through a new writer'
        def mirror = new Mirror(newSize, clusterSize(options), options.contains('compat=0.10') ? 2 : 3)
        mirror.write(0, Qemu.rawBytes(ours))
        Qcow2Writer.open(ours, WriteOptions.defaults()).withCloseable { w ->
            [[oldSize - 100, 600], [newSize - 4096, 4096], [(oldSize + newSize).intdiv(2) & ~511L, 70000]]
                    .findAll { it[0] >= 0 && it[0] + it[1] <= newSize }.eachWithIndex { s, i ->
                byte[] data = Mirror.pattern(i, (int) s[1])
                w.write((long) s[0], data)
                mirror.write((long) s[0], data)
            }
        }

        then:
        mirror.verify(ours, dir)

        where:
        options                                   | oldSize         | newSize
        'cluster_size=512'                        | 1024 * 1024     | 5 * 1024 * 1024 + 512   // L1 32 -> 161 entries
        'cluster_size=512,refcount_bits=1'        | 128 * 1024      | 3 * 1024 * 1024
        'cluster_size=65536'                      | 1024 * 1024     | 700 * 1024 * 1024       // L1 1 -> 2
        'cluster_size=65536'                      | 1000 * 1024     | 1000 * 1024 + 512       // inside the last cluster
        'extended_l2=on,cluster_size=16384'       | 512 * 1024      | 9 * 1024 * 1024 + 1536
        'compat=0.10,cluster_size=4096'           | 2 * 1024 * 1024 | 5 * 1024 * 1024
        'lazy_refcounts=on,cluster_size=1024'     | 1024 * 1024     | 3 * 1024 * 1024
    }

    def "shrink #options from #oldSize to #newSize: data past the end discarded, tables and refblocks freed like qemu-img"() {
        given:
        long cs = clusterSize(options)
        def (ours, twin) = twins(options, "$oldSize", ["write -c -P 0x22 ${((newSize + cs - 1).intdiv(cs) + 3) * cs} $cs", "write -c -P 0x23 ${cs * 3} $cs",
                                                       "write -P 0x11 0 ${cs * 3}", "write -P 0x12 ${cs * 4} ${oldSize - cs * 4}",
                                                       "write -z ${cs * 5} ${cs * 2}", "write -P 0x44 ${oldSize - cs * 2 - 512} ${cs}"])

        when:
        resize(ours, newSize)
        Qemu.img('resize', '-q', '--shrink', twin.toString(), "$newSize")

        then:
        sameAsTwin(ours, twin, newSize)
        Files.size(ours) <= Files.size(twin) + cs
        refblocks(ours) == refblocks(twin)

        when: 'grown again and written past the cut'
        resize(ours, oldSize)
        Qemu.img('resize', '-q', twin.toString(), "$oldSize")
        Qcow2Writer.open(ours, WriteOptions.defaults()).withCloseable { w -> w.write(oldSize - 3000, Mirror.pattern(9, 3000)) }
        Qemu.io(twin, "write -P 0 ${oldSize - 3000} 3000")

        then: 'qemu-img compare treats our pattern as different data'
        Qemu.img(['check', ours.toString()], false).exit == 0
        Sha256.of(Qemu.rawBytes(ours), oldSize - 3000) == Sha256.of(Qemu.rawBytes(twin), oldSize - 3000)

        where:
        options                             | oldSize              | newSize
        'cluster_size=512'                  | 3 * 1024 * 1024      | 1000 * 1024 + 512
        'cluster_size=512,refcount_bits=64' | 3 * 1024 * 1024      | 70 * 1024
        'cluster_size=65536'                | 5 * 1024 * 1024      | 1024 * 1024
        'cluster_size=4096'                 | 5 * 1024 * 1024      | 3 * 1024 * 1024 - 1536
        'extended_l2=on,cluster_size=16384' | 6 * 1024 * 1024      | 2 * 1024 * 1024 + 2048
        'compat=0.10,cluster_size=2048'     | 2 * 1024 * 1024      | 1024 * 1024 + 512
    }

    def "a v3 image with snapshots is resized both ways and its snapshot stays intact"() {
        given:
        def (ours, twin) = twins('cluster_size=4096', '4M', ['write -P 0x61 0 4M'])
        [ours, twin].each { Qemu.img('snapshot', '-c', 'before', it.toString()) }
        [ours, twin].each { Qemu.io(it, 'write -P 0x62 1M 2M') }

        when:
        resize(ours, 1536 * 1024)
        resize(ours, 8 * 1024 * 1024)
        Qemu.img('resize', '-q', '--shrink', twin.toString(), "${1536 * 1024}")
        Qemu.img('resize', '-q', twin.toString(), "${8 * 1024 * 1024}")

        then:
        sameAsTwin(ours, twin, 8 * 1024 * 1024)
        Sha256.of(Qemu.rawBytes(ours, 'before')) == Sha256.of(Qemu.rawBytes(twin, 'before'))
        Sha256.of(Qemu.rawBytes(ours, 'before'), 1536 * 1024) == Sha256.of(new byte[1536 * 1024].tap { Arrays.fill(it, (byte) 0x61) })
    }

    def "growing over a longer backing file zeroes the new area (#options, #oldSize -> #newSize)"() {
        given:
        def base = Qemu.create(dir.resolve('base.qcow2'), '4M')
        Qemu.io(base, 'write -P 0x77 0 4M')
        def (ours, twin) = twins(options, "$oldSize", ["write -P 0x12 0 4096"], ['-b', base.toString(), '-F', 'qcow2'])

        when:
        resize(ours, newSize)
        Qemu.img('resize', '-q', twin.toString(), "$newSize")

        then:
        sameAsTwin(ours, twin, newSize)
        Qemu.img('map', '--output=json', ours.toString()).out == Qemu.img('map', '--output=json', twin.toString()).out.replace(twin.toString(), ours.toString())

        where:
        options                              | oldSize     | newSize
        'cluster_size=65536'                 | 1024 * 1024 | 3 * 1024 * 1024
        'cluster_size=65536'                 | 1000 * 1024 | 1100 * 1024
        'extended_l2=on'                     | 1000 * 1024 | 1100 * 1024
        'cluster_size=512'                   | 1000 * 1024 | 6 * 1024 * 1024
        'compat=0.10'                        | 1000 * 1024 | 1000 * 1024 + 4096
    }

    def "refusals leave the file untouched: #why"() {
        given:
        def img = Qemu.create(dir.resolve('r.qcow2'), '1M', options, backing ? ['-b', Qemu.create(dir.resolve('b.qcow2'), '4M').toString(), '-F', 'qcow2'] : [])
        if (snapshot) Qemu.img('snapshot', '-c', 's', img.toString())
        def sha = Sha256.of(img)

        when:
        resize(img, newSize)

        then:
        def e = thrown(IOException)
        e.message == "${img}: $message"
        Sha256.of(img) == sha

        where:
        why                           | options       | snapshot | backing | newSize           || message
        'size zero'                   | null          | false    | false   | 0                 || 'New image size must be positive'
        'negative size'               | null          | false    | false   | -512              || 'New image size must be positive'
        'not whole sectors'           | null          | false    | false   | 1024 * 1024 + 100 || 'The new size must be a multiple of 512'
        'v2 with snapshots'           | 'compat=0.10' | true     | false   | 2 * 1024 * 1024   || "Can't resize a v2 image which has snapshots"
        'v2 over a longer backing'    | 'compat=0.10' | false    | true    | 2 * 1024 * 1024   || 'Failed to zero out new clusters: Operation not supported'
        'L1 beyond 32 MiB'            | 'cluster_size=512' | false | false | 1L << 50        || 'Failed to grow the L1 table: File too large'
    }

    def "QEMU's L1 growth sizes: exact for a resize, 1.5x steps for a write beyond the table"() {
        expect:
        L1Growth.newSize(old, min, exact) == expected

        where:
        old | min  | exact || expected
        32  | 161  | true  || 161
        0   | 1    | false || 1
        1   | 2    | false || 2
        2   | 3    | false || 3
        4   | 5    | false || 6
        32  | 33   | false || 48
        32  | 161  | false || 162
    }

    // ---- helpers ----

    private List<Path> twins(String options, String size, List<String> ioCommands, List<String> extra = []) {
        def ours = Qemu.create(dir.resolve('ours.qcow2'), size, options, extra)
        def twin = Qemu.create(dir.resolve('twin.qcow2'), size, options, extra)
        if (ioCommands) [ours, twin].each { Qemu.io(it, ioCommands) }
        [ours, twin]
    }

    static void resize(Path image, long newSize) {
        Qcow2Writer.open(image, WriteOptions.defaults()).withCloseable { w -> Resizer.resize(w, newSize) }
    }

    static boolean sameAsTwin(Path ours, Path twin, long newSize) {
        def check = Qemu.img(['check', ours.toString()], false)
        assert check.exit == 0: "qemu-img check: $check"
        assert Qemu.img('info', '--output=json', ours.toString()).json()['virtual-size'] == newSize
        assert l1Size(ours) == l1Size(twin)
        def cmp = Qemu.img(['compare', '-f', 'qcow2', '-F', 'qcow2', ours.toString(), twin.toString()], false)
        assert cmp.exit == 0: "qemu-img compare: $cmp"
        true
    }

    /** Refcount blocks the refcount table names. */
    static int refblocks(Path image) {
        def buf = ByteBuffer.wrap(Files.readAllBytes(image))
        long offset = buf.getLong(48)
        int entries = buf.getInt(56) * (1 << buf.getInt(20)) / 8
        (0..<entries).count { buf.getLong((int) (offset + 8 * it)) != 0 } as int
    }

    static int l1Size(Path image) {
        byte[] header = new byte[48]
        Files.newInputStream(image).withCloseable { it.read(header) }
        ByteBuffer.wrap(header).getInt(36)
    }


    static int clusterSize(String options) {
        def m = options =~ /cluster_size=(\w+)/
        m ? Integer.parseInt(m[0][1]) : 65536
    }
}
