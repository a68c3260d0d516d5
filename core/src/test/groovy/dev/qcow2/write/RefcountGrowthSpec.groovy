package dev.qcow2.write

import dev.qcow2.format.Qcow2Header
import dev.qcow2.storage.FileStorage
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/** Small clusters and wide refcounts make the refcount table fill up, so it must grow (QEMU's qcow2_refcount_area). */
class RefcountGrowthSpec extends Specification {
    @TempDir Path dir

    def "many writes grow the refcount table and the image stays clean (#options)"() {
        given:
        def img = Qemu.create(dir.resolve('g.qcow2'), "$size", options)
        def before = FileStorage.openReadOnly(img).withCloseable { Qcow2Header.read(it) }
        int cs = WriteShapesSpec.clusterSize(options)
        def mirror = new Mirror(size, cs)

        when: 'data written in pieces across the whole disk'
        Qcow2Writer.open(img, WriteOptions.defaults()).withCloseable { w ->
            int piece = 64 * 1024
            for (long off = 0; off + piece <= size; off += piece) {
                byte[] data = Mirror.pattern(off, piece)
                w.write(off, data)
                mirror.write(off, data)
            }
        }
        def after = FileStorage.openReadOnly(img).withCloseable { Qcow2Header.read(it) }

        then: 'the table moved and grew'
        after.refcountTableClusters() > before.refcountTableClusters()
        after.refcountTableOffset() != before.refcountTableOffset()
        mirror.verify(img, dir)

        where:
        options                                | size
        'cluster_size=512,refcount_bits=64'    | 3 * 1024 * 1024
        'cluster_size=512,refcount_bits=32'    | 5 * 1024 * 1024
    }

    def "a refcount that would overflow is refused with a clear error"() {
        given: 'refcount_bits=1 allows one reference; a second one (snapshot) cannot be counted'
        def img = Qemu.create(dir.resolve('o.qcow2'), '1M', 'refcount_bits=1')
        def alloc = null
        def w = Qcow2Writer.open(img, WriteOptions.defaults())
        w.write(0, new byte[512])

        when:
        def f = w.class.getDeclaredField('allocator')
        f.accessible = true
        alloc = f.get(w)
        alloc.reference(0x50000, 512)   // the data cluster written above already has refcount 1

        then:
        def e = thrown(dev.qcow2.Qcow2Exception)
        e.message.contains('would overflow (refcount_bits=1 allows at most 1 references)')

        cleanup:
        w?.close()
    }
}
