package dev.qcow2.cli

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/** {@code dump refcounts} and {@code dump refcount-table} on sound and damaged refcount tables. */
class RefcountDumpSpec extends Specification {
    @TempDir Path dir

    private static long u64(Path p, long at) { new RandomAccessFile(p.toFile(), 'r').withCloseable { it.seek(at); it.readLong() } }
    private static void put64(Path p, long at, long v) { new RandomAccessFile(p.toFile(), 'rw').withCloseable { it.seek(at); it.writeLong(v) } }

    def "a refcount block at #what: the reftable dump says so, and its clusters' refcounts are unreadable"() {
        given: 'reftable entry 1 names a second refcount block of the 1k-cluster image'
        def img = Qemu.create(dir.resolve('r.qcow2'), '4M', 'cluster_size=1024')
        Qemu.io(img, 'write -P 1 0 1M')
        long reftable = u64(img, 48)
        long second = u64(img, reftable + 8)
        assert second != 0
        put64(img, reftable + 8, second + delta)

        when:
        def table = Cli.run('dump', 'refcount-table', '--output=json', img).json()
        def rows = Cli.run('dump', 'refcounts', '--output=json', img).json()
        def bad = rows.findAll { it.status == 'unreadable' }

        then: 'reftable entry 1 is checked as QEMU checks it (check_refblocks: cluster aligned)'
        table*.reftable_index == [0, 1, 2]
        table[1].refblock_offset == second + delta
        table[1].status == status
        table[1].first_cluster == 512

        and: 'the clusters it describes have no refcount (qcow2_get_refcount: -EIO), the others do'
        (bad.size() > 0) == (delta != 0)
        bad.every { it.refcount == null && it.cluster >= 512 && it.cluster < 1024 }
        rows[0] == [type: 'refcount', cluster: 0, host_offset: 0, refcount: 1, references: 1, status: 'ok']

        where:
        what                  | delta || status
        'its aligned offset'  | 0     || 'ok'
        'an unaligned offset' | 512   || 'unaligned'
    }

    def "the reftable dump shows reserved bits apart from the offset"() {
        given:
        def img = Qemu.create(dir.resolve('t.qcow2'), '1M')
        long reftable = u64(img, 48)
        long block = u64(img, reftable)
        put64(img, reftable, block | 0x3)

        when:
        def rows = Cli.run('dump', 'refcount-table', '--output=json', img).json()

        then:
        rows == [[type: 'reftable-entry', reftable_index: 0, first_cluster: 0, refblock_offset: block, refcount: 1,
                  reserved_bits: 3, status: 'reserved-bits', raw: block | 3]]
    }

    def "a refcount table offset that is not cluster aligned: dump #what refuses the image in one line, as qemu-img does"() {
        given: 'the header names the refcount table half a cluster off (qcow2_open: "Reference count table offset invalid")'
        def img = Qemu.create(dir.resolve('c.qcow2'), '1M')
        Qemu.io(img, 'write -P 1 0 64k')
        put64(img, 48, u64(img, 48) + 512)

        when:
        def r = Cli.run('dump', what, img)

        then:
        r.exit == 1
        r.out.isEmpty()
        r.err.readLines() == ["qcow2: $img: Reference count table: Reference count table offset invalid (raw 0x10200)".toString()]
        !Qemu.img(['info', img.toString()], false).err.isEmpty()

        where:
        what << ['l2', 'refcounts', 'refcount-table', 'header']
    }
}
