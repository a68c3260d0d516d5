package dev.qcow2.amend

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * Amend against qemu-img amend on a twin: the same image (made by qemu), the same options.
 * Afterwards our image is clean under qemu-img check, holds the same guest data as the twin in
 * the active disk and in every snapshot, and qemu-img info reports the same compat level,
 * refcount width, lazy refcounts, backing file and size.
 */
class AmendSpec extends Specification {
    @TempDir Path dir

    static final List<String> ZEROS = ['write -P 0x11 0 192k', 'write -z 64k 64k', 'write -z -u 128k 64k', 'write -z 512k 128k',
                                       'write -P 0x22 900k 10k']
    static final List<String> SHARED_ZEROS = ZEROS + ['snapshot one', 'write -P 0x33 960k 64k', 'snapshot two', 'write -z 300k 64k']
    static final List<String> DATA = ['write -P 0x41 0 100k', 'write -c -P 0x42 256k 64k', 'write -P 0x43 700k 300k']
    static final List<String> PLAIN = ['write -P 0x41 0 100k', 'write -P 0x43 700k 300k']
    static final List<String> PLAIN_SNAPS = PLAIN + ['snapshot s1', 'write -P 0x44 50k 100k', 'snapshot s2']
    static final List<String> SNAPSHOTS = DATA + ['snapshot s1', 'write -P 0x44 50k 100k', 'snapshot s2', 'write -P 0x45 800k 8k']

    def "#options on an image #what gives what qemu-img amend gives"() {
        given:
        def (ours, twin) = AmendTwins.make(dir, 'img', create, '1M', recipe)

        when: 'each amend in turn (" then " separates them), on both images'
        options.split(' then ').each { o ->
            Amender.amend(ours, AmendOptions.parse([o]))
            Qemu.img('amend', '-o', o, twin.toString())
        }

        then:
        AmendTwins.check(ours).exit == 0
        Qemu.img(['compare', ours.toString(), twin.toString()], false).exit == 0
        AmendTwins.infoFields(ours) == AmendTwins.infoFields(twin)
        AmendTwins.snapshots(ours).every { Qemu.rawBytes(ours, it) == Qemu.rawBytes(twin, it) }

        where:
        what                                      | create                   | recipe       | options
        'with zero clusters'                      | null                     | ZEROS        | 'compat=v2'
        'with zero clusters in shared L2 tables'  | null                     | SHARED_ZEROS | 'compat=0.10'
        'of 512-byte clusters with zeros'         | 'cluster_size=512'       | ZEROS        | 'compat=v2 then compat=v3'
        'v2 with snapshots'                       | 'compat=0.10'            | SNAPSHOTS    | 'compat=v3'
        'v2, to v3 with lazy refcounts'           | 'compat=0.10'            | DATA         | 'compat=1.1,lazy_refcounts=on'
        'with snapshots'                          | null                     | SNAPSHOTS    | 'lazy_refcounts=on then lazy_refcounts=off'
        'with lazy refcounts, to v2'              | 'lazy_refcounts=on'      | ZEROS        | 'compat=v2'
        'of 512-byte clusters'                    | 'cluster_size=512'       | PLAIN        | 'refcount_bits=1 then refcount_bits=16'
        'of 512-byte clusters with snapshots'     | 'cluster_size=512'       | PLAIN_SNAPS  | 'refcount_bits=2 then refcount_bits=16'
        'of 512-byte clusters with snapshots'     | 'cluster_size=512'       | PLAIN_SNAPS  | 'refcount_bits=4 then refcount_bits=64'
        'with snapshots'                          | null                     | SNAPSHOTS    | 'refcount_bits=8 then refcount_bits=16'
        'with snapshots'                          | null                     | SNAPSHOTS    | 'refcount_bits=32 then refcount_bits=16'
        'with snapshots'                          | null                     | SNAPSHOTS    | 'refcount_bits=64 then compat=v2,refcount_bits=16'
        'with zero clusters'                      | null                     | ZEROS        | 'size=4M then size=600k'
        'with snapshots, grown then downgraded'   | null                     | SNAPSHOTS    | 'size=2M then compat=v2,size=1M'
        'with zstd and no compressed clusters'    | 'compression_type=zstd'  | ZEROS        | 'compat=v2'
        'of 4 KiB clusters with snapshots'        | 'cluster_size=4096'      | SNAPSHOTS    | 'compat=v2,refcount_bits=16,lazy_refcounts=off'
    }

    static final List<String> BITMAPS = ['write -P 0x41 0 100k', 'bitmap --add b0', 'bitmap --add -g 512k b1', 'write -P 0x42 300k 64k',
                                         'bitmap --disable b1', 'write -P 0x43 700k 10k']

    def "#options on an image with persistent bitmaps gives what qemu-img amend gives (bitmaps, bits, check)"() {
        given:
        def (ours, twin) = AmendTwins.make(dir, 'bm', create, '1M', BITMAPS)
        def bitsBefore = AmendTwins.bitmaps(twin)

        when:
        options.split(' then ').each { o ->
            Amender.amend(ours, AmendOptions.parse([o]))
            Qemu.img('amend', '-o', o, twin.toString())
        }
        def checked = AmendTwins.check(ours)

        then: 'the same check verdict (a downgrade to v2 leaks the bitmap clusters, as qemu-img leaves them)'
        checked.exit == AmendTwins.check(twin).exit
        checked.exit == expectedCheck
        Qemu.img(['compare', ours.toString(), twin.toString()], false).exit == 0
        AmendTwins.infoFields(ours) == AmendTwins.infoFields(twin)
        AmendTwins.bitmaps(ours) == AmendTwins.bitmaps(twin)
        expectedCheck != 0 || AmendTwins.bitmaps(ours)*.getAt(3) == bitsBefore*.getAt(3) || options.contains('size=')

        where:
        create             | options                                   | expectedCheck
        null               | 'refcount_bits=1'                         | 0
        null               | 'refcount_bits=64 then refcount_bits=16'  | 0
        'cluster_size=512' | 'refcount_bits=2'                         | 0
        null               | 'lazy_refcounts=on then lazy_refcounts=off' | 0
        null               | 'size=4M'                                 | 0
        null               | 'size=600k'                               | 0
        null               | 'compat=v2'                               | 3
        null               | 'compat=v2,refcount_bits=16'              | 3
    }

    def "#options on an image with a backing file gives what qemu-img amend gives"() {
        given:
        def base = dir.resolve('base.qcow2')
        Qemu.create(base, '1M')
        Qemu.io(base, 'write -P 0x77 0 1M')
        def (ours, twin) = AmendTwins.make(dir, 'top', null, '1M', ZEROS + ['snapshot s', 'write -z 768k 64k'],
                ['-b', base.toString(), '-F', 'qcow2'])

        when:
        Amender.amend(ours, AmendOptions.parse([options.replace('BASE', base.toString())]))
        Qemu.img('amend', '-o', options.replace('BASE', base.toString()), twin.toString())

        then:
        AmendTwins.check(ours).exit == 0
        Qemu.img(['compare', ours.toString(), twin.toString()], false).exit == 0
        Qemu.rawBytes(ours, 's') == Qemu.rawBytes(twin, 's')
        AmendTwins.infoFields(ours) == AmendTwins.infoFields(twin)

        where:
        options << ['compat=v2', 'backing_file=BASE,backing_fmt=qcow2,refcount_bits=4,size=3M']
    }

    def "a downgrade keeps a snapshot's data that a zero write after the snapshot shares (qemu-img 7.2 zeroes it)"() {
        given: 'a preallocated zero cluster whose data cluster the snapshot still uses'
        def (ours, twin) = AmendTwins.make(dir, 'shared', null, '1M', ['write -P 0x11 0 128k', 'snapshot s', 'write -z 0 64k'])
        byte[] before = Qemu.rawBytes(ours, 's')

        when:
        Amender.amend(ours, AmendOptions.parse(['compat=v2']))

        then:
        AmendTwins.check(ours).exit == 0
        Qemu.rawBytes(ours, 's') == before
        Qemu.rawBytes(ours) == Qemu.rawBytes(twin)
        AmendTwins.infoFields(ours).compat == '0.10'
    }

    def "an upgrade gives old-style v2 snapshot entries (no extra data) the v3 extra data, as qemu-img does"() {
        given: 'a v2 image whose snapshot entries have no extra data, as QEMU before 1.1 wrote them'
        def (ours, twin) = AmendTwins.make(dir, 'old', 'compat=0.10', '1M', SNAPSHOTS)
        [ours, twin].each { stripSnapshotExtraData(it) }
        assert AmendTwins.check(ours).exit == 0
        assert extraDataSizes(ours) == [0L, 0L]

        when:
        Amender.amend(ours, AmendOptions.parse(['compat=v3']))
        Qemu.img('amend', '-o', 'compat=v3', twin.toString())

        then:
        AmendTwins.check(ours).exit == 0
        AmendTwins.infoFields(ours) == AmendTwins.infoFields(twin)
        ['s1', 's2'].every { Qemu.rawBytes(ours, it) == Qemu.rawBytes(twin, it) }
        extraDataSizes(ours) == extraDataSizes(twin)
        extraDataSizes(ours).every { it >= 16 }
        Qemu.img(['compare', ours.toString(), twin.toString()], false).exit == 0
    }

    private static List<Long> extraDataSizes(Path image) {
        dev.qcow2.storage.FileStorage.openReadOnly(image).withCloseable { st ->
            dev.qcow2.format.SnapshotTable.read(st, dev.qcow2.format.Qcow2Header.read(st))*.extraDataSize()
        }
    }

    /** Rewrites every snapshot entry in place with extra_data_size 0 (the table only gets shorter). */
    private static void stripSnapshotExtraData(Path image) {
        byte[] file = java.nio.file.Files.readAllBytes(image)
        def b = java.nio.ByteBuffer.wrap(file)
        int n = b.getInt(60)
        long offset = b.getLong(64)
        def out = new ByteArrayOutputStream()
        long p = offset
        n.times {
            p = (p + 7) & ~7L
            int idLen = b.getShort((int) p + 12) & 0xffff
            int nameLen = b.getShort((int) p + 14) & 0xffff
            int extra = b.getInt((int) p + 36)
            byte[] head = Arrays.copyOfRange(file, (int) p, (int) p + 40)
            java.nio.ByteBuffer.wrap(head).putInt(36, 0)
            out.write(head)
            out.write(file, (int) p + 40 + extra, idLen + nameLen)
            while (out.size() % 8 != 0) out.write(0)
            p += 40 + extra + idLen + nameLen
        }
        byte[] table = out.toByteArray()
        Arrays.fill(file, (int) offset, (int) p, (byte) 0)
        System.arraycopy(table, 0, file, (int) offset, table.length)
        java.nio.file.Files.write(image, file)
    }
}
