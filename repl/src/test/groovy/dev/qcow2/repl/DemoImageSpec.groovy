package dev.qcow2.repl

import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** The image `qcow2 repl` opens without a file, judged by qemu-img: every promised feature is really there. */
class DemoImageSpec extends Specification {
    @Shared @TempDir Path dir
    @Shared Path demo

    def setupSpec() {
        demo = DemoImage.create(dir)
    }

    def "qemu-img check finds exactly one leaked cluster and no corruption"() {
        when:
        def r = Qemu.img(['check', '--output=json', demo.toString()], false)
        def json = r.json()

        then: 'exit 3 = leaks only'
        r.exit == 3
        json.leaks == 1
        json.corruptions == null || json.corruptions == 0
        json['compressed-clusters'] >= 2
    }

    def "qemu-img lists the two snapshots"() {
        expect:
        Qemu.img('snapshot', '-l', demo.toString()).out.readLines().findAll { it =~ /^\d+\s/ }*.split(/\s+/)*.getAt(1) == ['before', 'after']
    }

    def "the overlay has a backing file, and data differs between the snapshots"() {
        given:
        def info = Qemu.img('info', '--output=json', demo.toString()).json()

        expect:
        info['backing-filename'] == 'base.qcow2'
        info['backing-filename-format'] == 'qcow2'

        and: 'cluster 1: 0x11 in before, 0x22 after; cluster 6 comes from the backing file (0xBB)'
        qemuReads(demo, 'before', 0x10000, 0x11)
        qemuReads(demo, 'after', 0x10000, 0x22)
        qemuReads(demo, null, 0x60000, 0xBB)
    }

    def "a zeroed range covers the backing file's data"() {
        when:
        def map = Qemu.img('map', '--output=json', demo.toString()).json()
        def zeroed = map.find { it.start == 0x40000 }

        then: 'clusters 4-5 read as zeros from the overlay itself (depth 0), not from base.qcow2'
        zeroed.zero && zeroed.depth == 0 && zeroed.length >= 0x20000
        qemuReads(demo, null, 0x40000, 0)
    }

    def "the leaked cluster is the last one of the file and holds the demo text"() {
        given:
        byte[] file = Files.readAllBytes(demo)
        int last = file.length - DemoImage.CLUSTER

        expect:
        file.length % DemoImage.CLUSTER == 0
        new String(file, last, DemoImage.LEAKED_TEXT.length(), 'US-ASCII') == DemoImage.LEAKED_TEXT
        Qemu.img(['check', demo.toString()], false).err.contains("Leaked cluster ${last.intdiv(DemoImage.CLUSTER)} refcount=1 reference=0")
    }

    /** Whether guest cluster at {@code offset} reads as {@code pattern} per qemu-io (active state) or qemu-img convert -l (a snapshot). */
    private static boolean qemuReads(Path img, String snapshot, long offset, int pattern) {
        if (snapshot == null) {
            def r = Qemu.run([Qemu.QEMU_IO, '-r', '-f', 'qcow2', '-c', "read -P $pattern $offset 65536", img.toString()])
            return r.exit == 0 && !r.out.contains('Pattern verification failed')
        }
        Path raw = Files.createTempFile('demo-snap', '.raw')
        try {
            Qemu.img('convert', '-l', snapshot, '-O', 'raw', img.toString(), raw.toString())
            byte[] b = Files.readAllBytes(raw)
            return (0..<65536).every { (b[(int) offset + it] & 0xff) == pattern }
        } finally {
            Files.delete(raw)
        }
    }
}
