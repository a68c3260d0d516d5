package dev.qcow2.snapshot

import dev.qcow2.Qcow2Exception
import dev.qcow2.refcount.RefcountReader
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import dev.qcow2.write.Qcow2Writer
import dev.qcow2.write.WriteOptions
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.time.Instant

/**
 * RandomOpsModelSpec seed 625949156: with refcount_bits=4, several compressed clusters packed
 * into one host cluster give it one reference per piece per tree (QEMU's
 * qcow2_update_snapshot_refcount counts every compressed entry). With 4 pieces and three trees
 * the count is 12; one more tree would need 16. qemu-img's snapshot -a / -c fail there
 * ("Invalid argument", after leaking the counts raised so far); ours refuses up front and
 * changes nothing. The model used to expect success.
 */
class SnapshotRefcountOverflowSpec extends Specification {
    @TempDir Path dir

    def "#op is refused when a packed compressed host cluster would pass 15 references, as qemu-img fails"() {
        given: 'four compressed clusters packed into one host cluster, shared by the active tree and two snapshots'
        int cs = 2048
        def img = Qemu.create(dir.resolve('p.qcow2'), "${16 * cs}", 'refcount_bits=4,cluster_size=2048')
        Qcow2Writer.open(img, WriteOptions.defaults()).withCloseable { w ->
            for (int i = 0; i < 4; i++) w.writeCompressed(i * cs, filled(cs, i + 1))
        }
        long packed = hostCluster(img, 0)
        (1..3).each { assert hostCluster(img, it * cs) == packed }
        Snapshots.open(img).withCloseable { it.create('a', Instant.ofEpochSecond(1)); it.create('b', Instant.ofEpochSecond(2)) }
        assert refcount(img, packed) == 12
        def before = Sha256.of(img)
        def twin = dir.resolve('twin.qcow2')
        Files.copy(img, twin)

        when:
        Snapshots.open(img).withCloseable { ours.call(it) }

        then: 'ours refuses with the cluster named, and the file is unchanged and clean'
        def e = thrown(Qcow2Exception)
        e.message.endsWith("refcount of host cluster 0x${Long.toHexString(packed)} would overflow (refcount_bits=4 allows at most 15 references)")
        Sha256.of(img) == before
        Qemu.img('check', img.toString()).exit == 0

        and: 'qemu-img fails the same operation'
        def r = Qemu.img(qemu + [twin.toString()], false)
        r.exit == 1 && r.err.contains('Invalid argument')

        where:
        op                 | ours                                                   | qemu
        'apply'            | { Snapshots s -> s.apply('1') }                        | ['snapshot', '-a', '1']
        'create (a third)' | { Snapshots s -> s.create('c', Instant.ofEpochSecond(3)) } | ['snapshot', '-c', 'c']
    }

    def "one snapshot fewer fits: apply then succeeds and qemu-img finds the image clean"() {
        given:
        int cs = 2048
        def img = Qemu.create(dir.resolve('q.qcow2'), "${16 * cs}", 'refcount_bits=4,cluster_size=2048')
        Qcow2Writer.open(img, WriteOptions.defaults()).withCloseable { w ->
            for (int i = 0; i < 4; i++) w.writeCompressed(i * cs, filled(cs, i + 1))
        }
        Snapshots.open(img).withCloseable { it.create('a', Instant.ofEpochSecond(1)) }

        when: 'two trees hold 8 references; apply passes through 12'
        Snapshots.open(img).withCloseable { it.apply('1') }

        then:
        refcount(img, hostCluster(img, 0)) == 8
        Qemu.img('check', img.toString()).exit == 0
    }

    /** A cluster of one repeated byte: compresses to a few bytes, so four share a host cluster. */
    private static byte[] filled(int length, int value) {
        byte[] b = new byte[length]
        Arrays.fill(b, (byte) value)
        b
    }

    private static long hostCluster(Path img, long guest) {
        dev.qcow2.image.Qcow2Image.open(img).withCloseable { image ->
            def entry = image.mapper().entry(dev.qcow2.units.GuestOffset.of(guest))
            assert entry instanceof dev.qcow2.format.L2Entry.Compressed
            ((dev.qcow2.format.L2Entry.Compressed) entry).hostOffset() & ~2047L
        }
    }

    private static long refcount(Path img, long hostOffset) {
        dev.qcow2.image.Qcow2Image.open(img).withCloseable { RefcountReader.open(it.storage(), it.header()).get(hostOffset >>> 11) }
    }
}
