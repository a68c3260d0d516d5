package dev.qcow2.check

import dev.qcow2.testing.Damage

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

import static dev.qcow2.check.Finding.Type.*

/**
 * One damaged image per class of problem qemu-img check detects (qcow2-format.md §3): our
 * counters and exit code equal qemu-img check's on the same file, the expected finding is
 * reported, and the check does not change the file.
 */
class CheckCorruptionSpec extends Specification {
    @TempDir Path dir

    static final long COPIED = 1L << 63

    def "#problem is found as qemu-img check finds it"() {
        given: 'an image written by qemu-io, then damaged at offsets read from its own header'
        Path image = dir.resolve('damaged.qcow2')
        String opts = options?.replace('DATA', dir.resolve('data.raw').toString())
        Qemu.create(image, '8M', opts)
        Qemu.io(image, io)
        snapshots.each { Qemu.img('snapshot', '-c', it, image.toString()) }
        bitmaps.each { Qemu.img('bitmap', '--add', image.toString(), it); Qemu.io(image, 'write 0 1M') }
        damage(new Damage(image))
        def sha = Sha256.of(image)
        def expected = QemuCheck.reference(image)

        when:
        CheckReport report = QemuCheck.ours(image)

        then:
        report.exitCode() == expected.exit
        QemuCheck.counters(report) == expected.counters
        report.findings()*.type().contains(type)
        Sha256.of(image) == sha

        where:
        problem                                   | type                              | options                             | io                                  | snapshots  | bitmaps | damage
        'data cluster past EOF'                   | REGION_PAST_EOF                   | null                                | ['write 0 256k']                    | []         | []      | { it.add64(it.l2() + 8, 0x100000000L) }
        'refcount overflow (1-bit refcounts)'     | REFCOUNT_OVERFLOW                 | 'refcount_bits=1'                   | ['write 0 128k']                    | []         | []      | { it.put64(it.l2() + 8, it.u64(it.l2())) }
        'L1 reserved bits'                        | L1_RESERVED_BITS                  | null                                | ['write 0 256k']                    | []         | []      | { it.or64(it.l1(), 2) }
        'L2 table not cluster aligned'            | L2_TABLE_UNALIGNED                | null                                | ['write 0 256k']                    | []         | []      | { it.add64(it.l1(), 0x200) }
        'L2 entry reserved bits'                  | L2_RESERVED_BITS                  | null                                | ['write 0 256k']                    | []         | []      | { it.or64(it.l2(), 2) }
        'compressed cluster with COPIED'          | COMPRESSED_COPIED                 | null                                | ['write -c 0 64k', 'write -c 64k 64k'] | []      | []      | { it.or64(it.l2(), COPIED) }
        'compressed cluster with a data file'     | COMPRESSED_WITH_DATA_FILE         | 'data_file=DATA'                    | ['write 0 128k']                    | []         | []      | { it.put64(it.l2(), (1L << 62) | 0x50000) }
        'compressed cluster with subcluster bits' | COMPRESSED_WITH_SUBCLUSTER_BITMAP | 'extended_l2=on'                    | ['write -c 0 64k']                  | []         | []      | { it.put64(it.l2() + 8, 1) }
        'subcluster alloc and zero bits overlap'  | SUBCLUSTER_BITMAP_CORRUPT         | 'extended_l2=on'                    | ['write 0 64k']                     | []         | []      | { it.put64(it.l2() + 8, 0x1_0000_0001L) }
        'data cluster not aligned'                | DATA_CLUSTER_UNALIGNED            | null                                | ['write 0 256k']                    | []         | []      | { it.add64(it.l2(), 0x200) }
        'preallocated zero cluster not aligned'   | PREALLOCATED_ZERO_UNALIGNED       | null                                | ['write 0 256k']                    | []         | []      | { it.put64(it.l2(), (it.u64(it.l2()) | 1) + 0x200) }
        'unallocated cluster with alloc bits'     | UNALLOCATED_WITH_SUBCLUSTER_ALLOC | 'extended_l2=on'                    | ['write 0 64k']                     | []         | []      | { it.put64(it.l2() + 24, 3) }
        'snapshot L1 not cluster aligned'         | SNAPSHOT_L1_UNALIGNED             | null                                | ['write 0 128k']                    | ['a', 'b'] | []      | { it.add64(it.snapshots(), 0x200) }
        'snapshot L1 too large'                   | SNAPSHOT_L1_TOO_LARGE             | null                                | ['write 0 128k']                    | ['a', 'b'] | []      | { it.put32(it.snapshots() + 8, 0x400001) }
        'v3 snapshot entry incomplete'            | SNAPSHOT_ENTRY_INCOMPLETE         | null                                | ['write 0 128k']                    | ['a']      | []      | { it.shrinkSnapshotExtraData(8) }
        'snapshot extra data over 1024 bytes'     | SNAPSHOT_TABLE_UNREADABLE         | null                                | ['write 0 128k']                    | ['a', 'b'] | []      | { it.put32(it.snapshots() + 36, 2000) }
        'reftable entry reserved bits'            | REFTABLE_RESERVED_BITS            | null                                | ['write 0 256k']                    | []         | []      | { it.or64(it.reftable(), 1) }
        'refblock not aligned (refcounts unreadable)' | REFBLOCK_UNALIGNED            | null                                | ['write 0 256k']                    | []         | []      | { it.add64(it.reftable(), 0x200) }
        'refblock outside the image'              | REFBLOCK_OUTSIDE_IMAGE            | null                                | ['write 0 256k']                    | []         | []      | { it.put64(it.reftable() + 8, 0x10000000) }
        'refblock shared with an L2 table'        | REFBLOCK_SHARED                   | null                                | ['write 0 256k']                    | []         | []      | { it.put64(it.reftable() + 8, it.l2()) }
        'leaked cluster'                          | LEAKED_CLUSTER                    | null                                | ['write 0 256k']                    | []         | []      | { it.put16(it.refblock() + 2 * 5, 3) }
        'refcount 0 but referenced'               | REFCOUNT_TOO_LOW                  | null                                | ['write 0 256k']                    | []         | []      | { it.put16(it.refblock() + 2 * 4, 0) }
        'two L2 entries share a cluster'          | REFCOUNT_TOO_LOW                  | null                                | ['write 0 256k']                    | []         | []      | { it.put64(it.l2() + 8, it.u64(it.l2())) }
        'L1 OFLAG_COPIED missing'                 | L1_OFLAG_COPIED                   | null                                | ['write 0 256k']                    | []         | []      | { it.put64(it.l1(), it.u64(it.l1()) & ~COPIED) }
        'L2 OFLAG_COPIED missing'                 | L2_OFLAG_COPIED                   | null                                | ['write 0 256k']                    | []         | []      | { it.put64(it.l2(), it.u64(it.l2()) & ~COPIED) }
        'bitmap data cluster unreferenced'        | LEAKED_CLUSTER                    | null                                | ['write 0 64k']                     | []         | ['b0']  | { it.put64(it.u64(it.bitmapDirectory()), 0) }
        'in-use bitmap with a bad table entry'    | BITMAP_TABLE_INVALID              | null                                | ['write 0 64k']                     | []         | ['b0']  | { long d = it.bitmapDirectory(); it.put32(d + 12, 3); it.or64(it.u64(d), 2) }
        'no refcount table at all'                | REFCOUNT_TOO_LOW                  | null                                | ['write 0 64k']                     | []         | []      | { it.put32(56, 0) }
    }
}
