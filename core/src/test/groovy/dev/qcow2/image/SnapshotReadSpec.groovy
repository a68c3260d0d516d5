package dev.qcow2.image

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.ImageMatrix
import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.channels.FileChannel
import java.nio.file.Path
import java.nio.file.StandardOpenOption

/**
 * Internal snapshots: each one reads as {@code qemu-img convert -l NAME} does, while the data
 * changes between them (including a resize, zero writes, discards and compressed writes), and
 * every snapshot-table field equals {@code qemu-img info --output=json}.
 */
class SnapshotReadSpec extends Specification {
    @Shared long seed = Long.getLong('qcow2.seed', System.nanoTime())
    @TempDir Path dir

    def setupSpec() { println "SnapshotReadSpec seed=$seed (replay with -Dqcow2.seed=$seed)" }

    /** Three snapshots with different data; the first taken at 2 MiB, before a resize to 4 MiB. */
    Path snapshotted(String options, List<String> backing = [], boolean resize = true) {
        def img = Qemu.create(dir.resolve('img.qcow2'), resize ? '2M' : '4M', options, backing)
        def pattern = { int n -> ImageMatrix.patternFile(dir, seed + n) }
        ImageMatrix.io(img, pattern(0), ['write PAT 0 1000000', 'write -z 300000 5000'])
        Qemu.img('snapshot', '-c', 'one', img.toString())
        if (resize) Qemu.img('resize', '-q', img.toString(), '4M')  // v2 snapshots have no disk size: qemu refuses
        ImageMatrix.io(img, pattern(1), ['write PAT 65536 3000000', 'discard 131072 65536', 'write -z 1500000 70000']
                + (options?.contains('compression') ? ['write -c PAT 3145728 65536', 'write -c PAT 3211264 65536'] : []))
        Qemu.img('snapshot', '-c', 'two', img.toString())
        ImageMatrix.io(img, pattern(2), ['write PAT 0 4194304', 'discard 2097152 1048576'])
        Qemu.img('snapshot', '-c', 'three', img.toString())
        ImageMatrix.io(img, pattern(3), ['write PAT 100 200', 'write -z 0 65536'])
        img
    }

    def "#label: every snapshot, by name and by id, reads like qemu-img convert -l"() {
        given:
        if (backed) {
            def base = Qemu.create(dir.resolve('base.qcow2'), '4M', null)
            ImageMatrix.io(base, ImageMatrix.patternFile(dir, seed - 1), ['write PAT 0 4194304'])
        }
        def img = snapshotted(options, backed ? ['-b', 'base.qcow2', '-F', 'qcow2'] : [], !options?.contains('compat=0.10'))
        def before = FileHashes.of(dir)
        def expected = ['one', 'two', 'three', '1', '2', '3'].collectEntries { [it, Qemu.rawBytes(img, it)] }

        when:
        // snapshot -> [our size, qemu's size, first differing byte]; byte arrays stay out of the assertion
        def results = [:]
        Qcow2Image.open(img, OpenOptions.permissive()).withCloseable { image ->
            expected.each { String s, byte[] want ->
                byte[] got = ChunkedReads.readAll(image.snapshot(s), new Random(seed + s.hashCode()))
                results[s] = [got.length, want.length, ChunkedReads.firstDifference(got, want)]
            }
        }

        then:
        results.findAll { s, r -> r[0] != r[1] || r[2] != -1 } == [:]
        FileHashes.of(dir) == before

        where:
        label                  | options                            | backed
        'default'              | null                               | false
        'cluster 512 B'        | 'cluster_size=512'                 | false
        'compat 0.10'          | 'compat=0.10'                      | false
        'extended_l2'          | 'extended_l2=on'                   | false
        'refcount_bits 64'     | 'refcount_bits=64,cluster_size=4k' | false
        'over a backing file'  | null                               | true
        'extended_l2, backing' | 'extended_l2=on'                   | true
        'zstd compressed'      | 'compression_type=zstd'            | false
        'zlib compressed, xl2' | 'compression_type=zlib,extended_l2=on' | false
    }

    def "a snapshot is found by id before name, as qemu-img convert -l does"() {
        given: 'snapshot id 1 is named "2", snapshot id 2 is named "x"'
        def img = Qemu.create(dir.resolve('img.qcow2'), '1M', null)
        Qemu.io(img, ['write -P 1 0 65536'])
        Qemu.img('snapshot', '-c', '2', img.toString())
        Qemu.io(img, ['write -P 2 0 65536'])
        Qemu.img('snapshot', '-c', 'x', img.toString())
        def expected = Qemu.rawBytes(img, '2')
        def before = Sha256.of(img)

        when:
        def (id, bytes) = Qcow2Image.open(img).withCloseable { [it.findSnapshot('2').get().id(), it.snapshot('2').read(0, 65536)] }

        then:
        id == '2'
        bytes == Arrays.copyOf(expected, 65536)
        bytes[0] == 2 as byte
        Sha256.of(img) == before
    }

    def "snapshot table fields equal qemu-img info, including vm-clock, vm-state-size and icount"() {
        given: 'snapshot one patched to carry a VM clock, VM state size and icount (qemu-img itself writes zeros)'
        def img = snapshotted(null)
        patchSnapshotOne(img, 123_456_789_012L, 0x1_2345_6789L, 777L)
        def reference = Qemu.img('info', '--output=json', img.toString()).json().snapshots
        def before = Sha256.of(img)

        when:
        def ours = Qcow2Image.open(img).withCloseable { it.snapshots() }

        then:
        ours.size() == reference.size()
        [ours, reference].transpose().every { s, r ->
            s.id() == r.id && s.name() == r.name && s.dateSec() == r.'date-sec' && s.dateNsec() == r.'date-nsec' &&
                    s.vmClockNsec().intdiv(1_000_000_000L) == r.'vm-clock-sec' &&
                    s.vmClockNsec() % 1_000_000_000L == r.'vm-clock-nsec' &&
                    s.vmStateSize() == r.'vm-state-size' &&
                    (s.icount() == -1 ? !r.containsKey('icount') : s.icount() == r.icount)
        }
        ours*.diskSize() == [2 * ImageMatrix.MiB, 4 * ImageMatrix.MiB, 4 * ImageMatrix.MiB]
        ours[0].icount() == 777
        Sha256.of(img) == before
    }

    /** Writes vm_clock_nsec, vm_state_size (both the 32-bit field and the 64-bit extra one) and icount of the first entry. */
    static void patchSnapshotOne(Path img, long vmClockNsec, long vmStateSize, long icount) {
        FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE).withCloseable { ch ->
            def header = ByteBuffer.allocate(72)
            ch.read(header, 0)
            long table = header.getLong(64)
            def entry = ByteBuffer.allocate(64)
            ch.read(entry, table)
            assert entry.getInt(36) >= 24: 'qemu-img should write 24 bytes of extra data'
            ch.write(ByteBuffer.allocate(8).putLong(0, vmClockNsec), table + 24)
            ch.write(ByteBuffer.allocate(4).putInt(0, (int) vmStateSize), table + 32)
            ch.write(ByteBuffer.allocate(8).putLong(0, vmStateSize), table + 40)
            ch.write(ByteBuffer.allocate(8).putLong(0, icount), table + 56)
        }
    }
}
