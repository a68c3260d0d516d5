package dev.qcow2.cli

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

class BenchDumpSpec extends Specification {
    @TempDir Path dir

    def "bench prints qemu-img's two lines and leaves the image unchanged"() {
        given:
        def img = Images.build(dir, 'plain')
        def before = Sha256.of(img)

        when:
        def r = Cli.run('bench', '-c', '2000', '-d', '8', '-s', '4k', '-S', '8k', '-o', '1M', img)
        def lines = r.out.readLines()

        then:
        r.exit == 0
        lines[0] == 'Sending 2000 read requests, 4096 bytes each, 8 in parallel (starting at offset 1048576, step size 8192)'
        lines[0] == Qemu.img('bench', '-c', '2000', '-d', '8', '-s', '4k', '-S', '8k', '-o', '1M', img.toString()).out.readLines()[0]
        lines[1] ==~ /Run completed in \d+\.\d{3} seconds\./
        Sha256.of(img) == before
    }

    def "dump header decodes the fields qemu-img reports"() {
        given:
        def img = Qemu.create(dir.resolve('h.qcow2'), '10M', 'cluster_size=4k,refcount_bits=8')
        def before = Sha256.of(img)

        when:
        def h = Cli.run('dump', 'header', '--output=json', img).json()

        then:
        h.magic == 0x514649fb
        h.version == 3
        h.cluster_bits == 12
        h.size == 10485760
        h.refcount_order == 3
        h.type == 'header'
        h.cluster_size == 4096
        h.backing_file == null
        Cli.run('dump', 'header', img).out.readLines().any { it ==~ /magic:\s+0x514649fb/ }
        Sha256.of(img) == before
    }

    def "dump l2 lists allocated entries with guest and host offsets that agree with map"() {
        given:
        def img = Images.build(dir, 'compressed')
        def map = Qemu.img('map', '--output=json', img.toString()).json()

        when:
        def l2 = Cli.run('dump', 'l2', '--output=json', img).json()

        then:
        l2*.guest_offset == [0, 65536 * 2, 65536 * 4]
        l2*.kind == ['compressed', 'compressed', 'normal']
        l2.every { it.type == 'l2-entry' }
        l2*.refcount == [2, 2, 1]     // both compressed clusters are packed into one host cluster
        l2[2].host_offset == map.find { it.start == 262144 }.offset
    }

    def "dump snapshots, bitmaps, refcounts and extensions decode known values"() {
        given:
        def img = Images.build(dir, 'snapshots')
        Qemu.img('bitmap', '--add', '-g', '64k', img.toString(), 'dirty')
        Qemu.io(img, 'write -P 9 0 192k')

        when:
        def snaps = Cli.run('dump', 'snapshots', '--output=json', img).json()
        def bitmaps = Cli.run('dump', 'bitmaps', '--output=json', img).json()
        def refcounts = Cli.run('dump', 'refcounts', '--output=json', img).json()
        def ext = Cli.run('dump', 'extensions', '--output=json', img).json()

        then:
        snaps*.name == ['one', 'two']
        snaps*.id == ['1', '2']
        bitmaps.size() == 1
        bitmaps[0].name == 'dirty'
        bitmaps[0].granularity == 65536
        bitmaps[0].set_bits == 3
        refcounts[0] == [type: 'refcount', cluster: 0, host_offset: 0, refcount: 1, references: 1, status: 'ok']
        refcounts.every { it.status == 'ok' }
        (refcounts.last().cluster + 1) * 65536 == Qemu.img(['check', '--output=json', img.toString()], false).json()['image-end-offset']
        ext*.name.contains('bitmaps')
    }

    def "dump of an unknown structure is a one-line error"() {
        given:
        def img = Images.build(dir, 'empty')

        when:
        def r = Cli.run('dump', 'nothing', img)

        then:
        r.exit == 1
        r.err.readLines().size() == 1
    }
}
