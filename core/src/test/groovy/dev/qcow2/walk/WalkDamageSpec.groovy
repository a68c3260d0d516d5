package dev.qcow2.walk

import dev.qcow2.CorruptImageException
import dev.qcow2.amend.AmendOptions
import dev.qcow2.amend.Amender
import dev.qcow2.snapshot.Snapshots
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.channels.FileChannel
import java.nio.file.Path
import java.nio.file.StandardOpenOption

/**
 * The walks that change an image (snapshot apply/create, downgrade's zero expansion) refuse a
 * damaged L1 or L2 entry with a CorruptImageException naming the structure and the file offset
 * of the damaged entry, before they change anything.
 */
class WalkDamageSpec extends Specification {
    static final long COPIED = 1L << 63
    static final long ZERO = 1L
    static final long OFFSET_MASK = 0x00ff_ffff_ffff_fe00L
    @TempDir Path dir

    /** 64 KiB clusters: data and a preallocated zero cluster in the first L2 table, snapshot 'a'. */
    private Path image() {
        def img = Qemu.create(dir.resolve('d.qcow2'), '4M', 'cluster_size=64k')
        Qemu.io(img, 'write -P 1 0 128k', 'write -z 64k 64k')
        Qemu.img('snapshot', '-c', 'a', img.toString())
        img
    }

    private static long readLong(Path file, long at) {
        FileChannel.open(file).withCloseable { ch ->
            def b = ByteBuffer.allocate(8)
            ch.read(b, at)
            b.getLong(0)
        }
    }

    private static void writeLong(Path file, long at, long value) {
        FileChannel.open(file, StandardOpenOption.WRITE).withCloseable { ch -> ch.write(ByteBuffer.allocate(8).putLong(0, value), at) }
    }

    /** File offset of the L1 table of the active state (null) or of snapshot 'a'. */
    private static long l1Offset(Path file, String snapshot) {
        snapshot == null ? readLong(file, 40) : readLong(file, readLong(file, 64))
    }

    /** Damages {@code where} and returns the file offset of the damaged entry. */
    private static long damage(Path file, String where, String snapshot) {
        long l1 = l1Offset(file, snapshot)
        long l1Entry = readLong(file, l1)
        long l2 = l1Entry & OFFSET_MASK
        switch (where) {
            case 'L2 table offset unaligned':
                writeLong(file, l1, l1Entry + 512)
                return l1
            case 'data cluster offset unaligned':
                long e = readLong(file, l2)
                writeLong(file, l2, e + 512)
                return l2
            case 'preallocated zero cluster offset unaligned':
                long z = readLong(file, l2 + 8)
                assert (z & ZERO) != 0 && (z & OFFSET_MASK) != 0
                writeLong(file, l2 + 8, z + 512)
                return l2 + 8
        }
        throw new IllegalArgumentException(where)
    }

    def "snapshot #operation refuses #where in #tree at the entry's file offset"() {
        given:
        def file = image()
        long at = damage(file, where, tree == 'the active L1' ? null : 'a')

        when:
        Snapshots.open(file).withCloseable { s -> operation == 'create' ? s.create('b', java.time.Instant.now()) : s.apply('a') }

        then:
        def e = thrown(CorruptImageException)
        e.structure() == structure
        e.fileOffset() == at

        where:
        operation | tree              | where                           | structure
        'create'  | 'the active L1'   | 'L2 table offset unaligned'     | 'L1 table'
        'apply'   | "snapshot 'a'"    | 'L2 table offset unaligned'     | 'L1 table'
        'create'  | 'the active L1'   | 'data cluster offset unaligned' | 'L2 table'
    }

    def "downgrade to compat=0.10 refuses #where in #tree at the entry's file offset"() {
        given:
        def file = image()
        // the snapshot's L2 table is shared with the active one until a write: give the active state its own
        Qemu.io(file, 'write -P 2 0 64k', 'write -z 64k 64k')
        long at = damage(file, where, snapshot)

        when:
        Amender.amend(file, AmendOptions.parse(['compat=0.10']))

        then:
        def e = thrown(CorruptImageException)
        e.structure() == structure
        e.fileOffset() == at

        where:
        tree              | snapshot | where                                        | structure
        'the active L1'   | null     | 'L2 table offset unaligned'                  | 'L1 table'
        "snapshot 'a'"    | 'a'      | 'L2 table offset unaligned'                  | 'L1 table'
        'the active L1'   | null     | 'preallocated zero cluster offset unaligned' | 'L2 table'
    }
}
