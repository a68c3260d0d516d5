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

    def "a refcount block at #what is listed as unreadable with its reftable index, and the dump goes on"() {
        given: 'reftable entry 1 names a second refcount block of the 1k-cluster image'
        def img = Qemu.create(dir.resolve('r.qcow2'), '4M', 'cluster_size=1024')
        Qemu.io(img, 'write -P 1 0 1M')
        long reftable = u64(img, 48)
        long second = u64(img, reftable + 8)
        assert second != 0
        put64(img, reftable + 8, second + delta)

        when:
        def rows = Cli.run('dump', 'refcounts', '--output=json', img).json()
        def bad = rows.findAll { it.containsKey('unreadable') }

        then:
        bad.size() == unreadable
        bad.every { it.reftable_index == 1 && it.refblock_offset == second + delta && it.unreadable.contains('unaligned') }
        rows[0] == [cluster: 0, host_offset: 0, refcount: 1]

        where:
        what                 | delta || unreadable
        'its aligned offset' | 0     || 0
        'an unaligned offset' | 512  || 1
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
        rows == [[index: 0, refblock_offset: block, reserved_bits: 3]]
    }
}
