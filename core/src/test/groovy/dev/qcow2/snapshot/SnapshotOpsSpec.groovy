package dev.qcow2.snapshot

import dev.qcow2.testing.Sha256

import dev.qcow2.Qcow2Exception
import dev.qcow2.testing.Qemu
import dev.qcow2.write.Mirror
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** create / apply / delete against qemu-img 7.2 on the image shapes that change the walk. */
class SnapshotOpsSpec extends Specification {
    @TempDir Path dir

    private SnapshotModel model(String options, long size = 4L << 20) {
        size = Math.max(size, 8L * SnapshotModel.clusterSize(options))
        def img = Qemu.create(dir.resolve('s.qcow2'), "$size", options)
        new SnapshotModel(img, dir, SnapshotModel.clusterSize(options), new byte[(int) size])
    }

    def "create, write, create, delete, apply keep every state readable by qemu-img (#options)"() {
        given: 'data, some of it compressed'
        def m = model(options)
        int cs = m.clusterSize
        m.write(0, 3 * cs + 100, 1)
        m.write(2L << 20, cs, 2, true)

        when: 'a snapshot, writes over shared clusters, a second snapshot'
        def first = m.create('first')
        m.write(cs + 10, 200, 3)
        m.write((2L << 20) + 5, 17, 4)
        m.write(3L << 20, 2 * cs, 5)
        def second = m.create('second')
        m.write(50, cs, 6)

        then:
        first == '1' && second == '2'
        m.verify()

        when: 'the first is deleted and the second applied'
        m.delete(first)
        m.verify()
        m.apply(second)
        m.write(100, 100, 7)

        then:
        m.verify()

        where:
        options << ['cluster_size=65536', 'cluster_size=512', 'cluster_size=2M', 'refcount_bits=64', 'refcount_bits=2',
                    'extended_l2=on', 'compat=0.10', 'compression_type=zstd']
    }

    def "qemu-img applies and deletes our snapshots, and we apply and delete its (#options)"() {
        given:
        def m = model(options)
        int cs = m.clusterSize
        m.write(0, 2 * cs, 11)
        def ours = m.create('ours')
        m.write(cs, cs, 12)
        def theirs = m.qemuCreate('theirs')
        m.write(0, 10, 13)

        when:
        m.qemuApply(ours)
        m.verify()
        m.apply(theirs)
        m.verify()
        m.qemuDelete(ours)
        m.write(5, 5000, 14)
        m.verify()
        m.delete(theirs)

        then:
        m.verify()
        m.snapshots.isEmpty()

        where:
        options << ['cluster_size=65536', 'cluster_size=16384,extended_l2=on']
    }

    def "snapshots of an overlay keep reading through the backing file"() {
        given:
        long size = 2L << 20
        def base = Qemu.create(dir.resolve('base.qcow2'), "$size")
        Qemu.io(base, 'write -P 0x5a 0 2M')
        def top = Qemu.create(dir.resolve('top.qcow2'), "$size", null, ['-b', base.toString(), '-F', 'qcow2'])
        byte[] initial = new byte[(int) size]
        Arrays.fill(initial, (byte) 0x5a)
        def m = new SnapshotModel(top, dir, 65536, initial)

        when:
        m.write(1000, 70000, 21)
        def s = m.create('s')
        m.write(500, 100, 22)

        then:
        m.verify()

        when:
        m.apply(s)

        then:
        m.verify()
    }

    def "duplicate names are allowed and the ID is the largest numeric ID + 1, as in qemu-img"() {
        given:
        def m = model('cluster_size=65536', 1L << 20)
        m.write(0, 4096, 31)

        when:
        def a = m.create('same')
        def b = m.qemuCreate('same')
        m.delete(a)
        def c = m.create('same')

        then:
        [a, b, c] == ['1', '2', '3']
        m.verify()

        when: 'a name is looked up after the IDs: the first snapshot with that name goes'
        Snapshots.open(m.image).withCloseable { it.delete('same') }
        m.snapshots.remove(b)
        m.names.remove(b)

        then:
        m.verify()
    }

    def "refcount_bits=1 cannot share a cluster: create is refused and the file is unchanged"() {
        given:
        def img = Qemu.create(dir.resolve('r1.qcow2'), '1M', 'refcount_bits=1')
        Qemu.io(img, 'write -P 1 0 64k')
        def before = Sha256.of(img)

        when:
        Snapshots.open(img).withCloseable { it.create('s', java.time.Instant.now()) }

        then:
        def e = thrown(Qcow2Exception)
        e.message.contains('would overflow (refcount_bits=1')
        Sha256.of(img) == before
    }

    def "refcount_bits=1 with nothing allocated can still take and drop a snapshot"() {
        given:
        def m = model('refcount_bits=1', 1L << 20)

        when:
        def id = m.create('empty')

        then:
        m.verify()

        when:
        m.delete(id)

        then:
        m.verify()
    }

    def "unknown snapshots are reported, not guessed"() {
        given:
        def m = model('cluster_size=65536', 1L << 20)
        m.create('a')
        def before = Sha256.of(m.image)

        when:
        Snapshots.open(m.image).withCloseable { it.apply('nope') }

        then:
        thrown(SnapshotNotFoundException)
        Sha256.of(m.image) == before

        when:
        Snapshots.open(m.image).withCloseable { it.delete('nope') }

        then:
        thrown(SnapshotNotFoundException)
        Sha256.of(m.image) == before
    }

    def "the written entry matches qemu-img's: 24 bytes of extra data, disk size, icount 0, microsecond date"() {
        given:
        def m = model('cluster_size=65536', 1L << 20)
        def when = java.time.Instant.ofEpochSecond(1_700_000_000L, 123_456_789L)

        when:
        Snapshots.open(m.image).withCloseable { it.create('x', when) }
        def e = dev.qcow2.image.Qcow2Image.open(m.image, dev.qcow2.image.OpenOptions.defaults()).withCloseable { it.snapshots()[0] }

        then:
        e.extraDataSize() == 24
        e.hasDiskSize() && e.diskSize() == 1L << 20
        e.icount() == 0
        e.dateSec() == 1_700_000_000L
        e.dateNsec() == 123_456_000L
        e.vmStateSize() == 0 && e.vmClockNsec() == 0
    }

    def "applying a snapshot taken at another disk size restores that size, as qemu-img 7.2 does"() {
        given: 'a snapshot at 4 MiB, then the disk grown to 600 MiB (a second L1 entry) and written past the old end'
        def m = model('cluster_size=65536', 4L << 20)
        m.write(0, 100000, 41)
        def id = m.create('small')
        Qemu.img('resize', m.image.toString(), '600M')
        Qemu.io(m.image, 'write -P 0x77 580M 64k')

        when:
        m.apply(id)

        then:
        Qemu.img('info', '--output=json', m.image.toString()).json()['virtual-size'] == 4L << 20
        m.verify()
    }
}
