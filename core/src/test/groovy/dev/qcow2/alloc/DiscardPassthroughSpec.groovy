package dev.qcow2.alloc

import dev.qcow2.image.Qcow2Image
import dev.qcow2.refcount.RefcountReader
import dev.qcow2.resize.Resizer
import dev.qcow2.snapshot.Snapshots
import dev.qcow2.storage.AllocatedBytes
import dev.qcow2.storage.FileStorage
import dev.qcow2.testing.Qemu
import dev.qcow2.write.Qcow2Writer
import dev.qcow2.write.WriteOptions
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.file.Files
import java.nio.file.Path

/**
 * Clusters that a shrink or a snapshot deletion or apply frees are punched out of the file as
 * QEMU does it (QCOW2_DISCARD_ALWAYS and pass-discard-snapshot are on), on twins: the same
 * operation by us and by qemu-img must leave the same free clusters as holes, the same
 * {@code qemu-img map}, and about the same allocated size.
 */
class DiscardPassthroughSpec extends Specification {
    @TempDir Path dir

    def "#op (#options): the clusters it frees are holes, as qemu-img leaves them"() {
        given: 'data whose high guest clusters sit low in the file, and (but for the shrink) a snapshot'
        boolean snapshot = !op.startsWith('shrink')
        def (ours, twin) = ['ours.qcow2', 'twin.qcow2'].collect { name ->
            def image = Qemu.create(dir.resolve(name), '4M', options)
            Qemu.io(image, ['write -P 0x31 3M 1M', 'write -P 0x32 0 2M', 'write -c -P 0x35 2M 64k'])
            if (snapshot) Qemu.img('snapshot', '-c', 's1', image.toString())
            Qemu.io(image, ['write -P 0x33 0 1M', 'write -P 0x34 3M 512k'])
            image
        }
        if (snapshot) sameSnapshotDates(ours, twin)

        when:
        ourOp.call(ours)
        Qemu.img(qemuOp.collect { it == 'IMG' ? twin.toString() : it })

        then:
        Qemu.img(['check', ours.toString()], false).exit == 0
        Qemu.img(['compare', '-f', 'qcow2', '-F', 'qcow2', ours.toString(), twin.toString()], false).exit == 0
        map(ours) == map(twin)
        def free = freeClusters(ours)
        free == freeClusters(twin)
        free.collect { isHole(ours, it[0], it[1]) } == free.collect { isHole(twin, it[0], it[1]) }
        free.count { isHole(ours, it[0], it[1]) } >= minimumPunched
        Math.abs(AllocatedBytes.statBlocks(ours) - AllocatedBytes.statBlocks(twin)) <= 8L * clusterSize(options)

        where:
        op             | options                            | minimumPunched | ourOp                                                             | qemuOp
        'shrink to 1M' | 'cluster_size=65536'               | 8              | { Path p -> resize(p, 1 << 20) }                                 | ['resize', '-q', '--shrink', 'IMG', '1M']
        'shrink to 1M' | 'cluster_size=512'                 | 1000           | { Path p -> resize(p, 1 << 20) }                                 | ['resize', '-q', '--shrink', 'IMG', '1M']
        'delete s1'    | 'cluster_size=65536'               | 16             | { Path p -> Snapshots.open(p).withCloseable { it.delete('1') } } | ['snapshot', '-d', 's1', 'IMG']
        'delete s1'    | 'cluster_size=16384,extended_l2=on' | 40            | { Path p -> Snapshots.open(p).withCloseable { it.delete('1') } } | ['snapshot', '-d', 's1', 'IMG']
        'apply s1'     | 'cluster_size=65536'               | 16             | { Path p -> Snapshots.open(p).withCloseable { it.apply('1') } }  | ['snapshot', '-a', 's1', 'IMG']
    }

    private static void resize(Path p, long size) {
        Qcow2Writer.open(p, WriteOptions.defaults()).withCloseable { Resizer.resize(it, size) }
    }

    /** The snapshot was taken at a different time in each twin: ours gets the twin's date. */
    private static void sameSnapshotDates(Path ours, Path twin) {
        def bytes = ByteBuffer.wrap(Files.readAllBytes(twin))
        long table = bytes.getLong(64)
        byte[] date = new byte[8]
        bytes.get((int) table + 16, date)
        new RandomAccessFile(ours.toFile(), 'rw').withCloseable { it.seek(table + 16); it.write(date) }
    }

    /** Host clusters below the end of the file with refcount 0, as [offset, length]. */
    private static List<List<Long>> freeClusters(Path image) {
        Qcow2Image.open(image).withCloseable { img ->
            def refcounts = RefcountReader.open(img.storage(), img.header())
            int cs = img.header().geometry().clusterSize()
            long size = img.storage().size()
            (0L..<((size + cs - 1).intdiv(cs))).findAll { refcounts.get(it) == 0 }.collect { [it * cs, Math.min((long) cs, size - it * cs)] }
        }
    }

    private static boolean isHole(Path file, long offset, long length) {
        FileStorage.openReadOnly(file).withCloseable { s ->
            def run = s.hostRun(offset, length)
            run.hole() && run.length() >= length
        }
    }

    private static int clusterSize(String options) {
        (options =~ /cluster_size=(\d+)/).with { it.find() ? it.group(1) as int : 65536 }
    }

    private static String map(Path image) { Qemu.img('map', '--output=json', image.toString()).out }
}
