package dev.qcow2.walk

import dev.qcow2.check.ImageChecker
import dev.qcow2.check.QemuCheck
import dev.qcow2.image.OpenOptions
import dev.qcow2.image.Qcow2Image
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.file.Files
import java.nio.file.Path

/**
 * The one metadata walk against qemu-img 7.2: on images qemu made (snapshots, compressed and
 * preallocated zero clusters, a persistent bitmap, extended L2, LUKS) every owner kind shows
 * up, and the walk's ranges are exactly the references behind the refcounts qemu wrote.
 */
class MetadataWalkSpec extends Specification {
    @TempDir Path dir

    /** Data, compressed data, a preallocated zero cluster, snapshot 'a', a bitmap with bits set, more data. */
    private Path qemuImage(String options) {
        def img = Qemu.create(dir.resolve('w.qcow2'), '4M', options)
        Qemu.io(img, 'write -P 1 0 64k', 'write -c -P 2 1M 64k')
        Qemu.io(img, 'write -z 0 64k')
        Qemu.img('snapshot', '-c', 'a', img.toString())
        Qemu.img('bitmap', '--add', img.toString(), 'b0')
        Qemu.io(img, 'write -P 3 8k 4k', 'write -P 4 2M 12k')
        img
    }

    private static List<List> ranges(Qcow2Image img) {
        List<List> out = []
        MetadataWalk.walk(img, { Owner o, long offset, long length -> out << [o, offset, length] } as MetadataVisitor)
        out
    }

    /** Refcounts as written in the file (16-bit, qemu's default), read without the library: cluster -> refcount. */
    private static Map<Long, Long> onDiskRefcounts(Path file) {
        def b = ByteBuffer.wrap(Files.readAllBytes(file))
        int bits = b.getInt(20)
        long cs = 1L << bits
        long rtOffset = b.getLong(48)
        long rtClusters = Integer.toUnsignedLong(b.getInt(56))
        assert b.getInt(96) == 4
        long perBlock = cs / 2
        Map<Long, Long> out = [:]
        for (long i = 0; i < rtClusters * cs / 8; i++) {
            long block = b.getLong((int) (rtOffset + 8 * i)) & ~511L
            if (block == 0) continue
            for (long k = 0; k < perBlock; k++) {
                long rc = Short.toUnsignedLong(b.getShort((int) (block + 2 * k)))
                if (rc != 0) out[i * perBlock + k] = rc
            }
        }
        out
    }

    def "every owner kind appears and the ranges are exactly the references qemu counted (#options)"() {
        given:
        def file = qemuImage(options)
        def qemu = QemuCheck.reference(file).counters

        when:
        def img = Qcow2Image.open(file, OpenOptions.forChecking())
        def found = ranges(img)
        def geo = img.geometry()
        img.close()
        Map<Long, Long> references = [:]
        found.each { Owner o, long offset, long length ->
            for (long c = offset >>> geo.clusterBits(); c <= (offset + length - 1) >>> geo.clusterBits(); c++) {
                references[c] = (references[c] ?: 0L) + 1
            }
        }
        def activeData = found.count { it[0] instanceof Owner.Data || it[0] instanceof Owner.PreallocatedZero
                || it[0] instanceof Owner.CompressedData ? it[0].tree() instanceof Tree.Active : false }

        then: 'qemu-img finds the image clean, so its refcounts are the references'
        qemu.'corruptions' == 0 && qemu.'leaks' == 0

        and:
        found.collect { it[0].getClass().simpleName }.toSet() == kinds as Set
        found.any { it[0] instanceof Owner.L2Table && it[0].tree() == new Tree.Snapshot('1', 'a') }
        found.any { it[0] instanceof Owner.CompressedData && it[0].tree() == new Tree.Snapshot('1', 'a') }
        found.any { it[0] instanceof Owner.L1Table && it[0].tree() == new Tree.Snapshot('1', 'a') }
        references == onDiskRefcounts(file)
        activeData == qemu.'allocated-clusters'
        (references.keySet().max() + 1) << geo.clusterBits() == qemu.'image-end-offset'

        where:
        options                          | kinds
        'cluster_size=4k'                | ALL - ['CryptoHeader']
        'cluster_size=64k'               | ALL - ['CryptoHeader']
        'cluster_size=512'               | ALL - ['CryptoHeader']
        // extended L2: a zeroed cluster keeps its host cluster as a normal entry with zero subclusters
        'cluster_size=64k,extended_l2=on' | ALL - ['CryptoHeader', 'PreallocatedZero']
    }

    static final List<String> ALL = ['Header', 'L1Table', 'L2Table', 'Data', 'PreallocatedZero', 'CompressedData',
                                     'SnapshotTable', 'RefcountTable', 'RefcountBlock', 'CryptoHeader',
                                     'BitmapDirectory', 'BitmapTable', 'BitmapData']

    def "a LUKS image's header area is owned by the crypto header"() {
        given:
        def file = Qemu.createLuks(dir.resolve('l.qcow2'), '1M')
        def img = Qcow2Image.open(file, OpenOptions.forChecking())

        when:
        def crypto = ranges(img).findAll { it[0] instanceof Owner.CryptoHeader }
        def ext = img.header().extension(dev.qcow2.format.HeaderExtension.CryptoHeader).get()
        img.close()

        then:
        crypto == [[new Owner.CryptoHeader(), ext.headerOffset(), ext.headerLength()]]
    }

    def "the check's reference counts are the walk's ranges"() {
        given:
        def file = qemuImage('cluster_size=4k')
        def img = Qcow2Image.open(file, OpenOptions.forChecking())

        when:
        def counts = ImageChecker.scan(img, { }).references()
        Map<Long, Long> references = [:]
        ranges(img).each { Owner o, long offset, long length ->
            for (long c = offset >>> 12; c <= (offset + length - 1) >>> 12; c++) references[c] = (references[c] ?: 0L) + 1
        }
        img.close()

        then:
        (0L..<counts.size()).findAll { counts.get(it) != 0 }.collectEntries { [it, counts.get(it)] } == references
    }

    def "an owner describes itself: #text"() {
        expect:
        owner.describe() == text

        where:
        owner                                                            | text
        new Owner.Header()                                               | 'header'
        new Owner.L1Table(Tree.ACTIVE)                                   | 'L1 table of the active state'
        new Owner.L2Table(new Tree.Snapshot('1', 'a'), 0x40000000L)      | "L2 table of snapshot 'a' for guest 0x40000000"
        new Owner.Data(Tree.ACTIVE, 0x30000L)                            | 'data of the active state for guest 0x30000'
        new Owner.PreallocatedZero(Tree.ACTIVE, 0L)                      | 'preallocated zero cluster of the active state for guest 0x0'
        new Owner.CompressedData(new Tree.Snapshot('2', 'b'), 0x10000L)  | "compressed data of snapshot 'b' for guest 0x10000"
        new Owner.RefcountBlock(3)                                       | 'refcount block 3'
        new Owner.BitmapTable('b0')                                      | "bitmap table of 'b0'"
        new Owner.BitmapData('b0', 2)                                    | "bitmap data 2 of 'b0'"
    }
}
