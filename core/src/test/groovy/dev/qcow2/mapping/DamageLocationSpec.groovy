package dev.qcow2.mapping

import dev.qcow2.CorruptImageException
import dev.qcow2.image.OpenOptions
import dev.qcow2.image.Qcow2Image
import dev.qcow2.testing.Qemu
import dev.qcow2.write.Qcow2Writer
import dev.qcow2.write.WriteOptions
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.Timeout

import java.nio.file.Files
import java.nio.file.Path

import static dev.qcow2.testing.Damage.*

/**
 * A damaged mapping entry is reported where it lies: {@link CorruptImageException#structure()}
 * names the table and {@link CorruptImageException#fileOffset()} is the file offset of the
 * damaged bytes (an L1 entry, an L2 entry, the compressed payload), the same whether the guest
 * range is read through a read-only image or through the writer (a partial write reads the
 * rest of the cluster through the same path).
 */
@Timeout(30)
class DamageLocationSpec extends Specification {
    static final long COPIED = 1L << 63, COMPRESSED = 1L << 62, OFFSET_MASK = 0x00ff_ffff_ffff_fe00L

    @Shared Path dir, plain, zlib, extended

    def setupSpec() {
        dir = Files.createTempDirectory('qcow2-damage-location')
        plain = Qemu.create(dir.resolve('plain.qcow2'), '1M')
        Qemu.io(plain, 'write -P 0x5a 0 64k')
        zlib = Qemu.create(dir.resolve('zlib.qcow2'), '1M')
        Qemu.io(zlib, 'write -c -P 0x33 0 64k')
        extended = Qemu.create(dir.resolve('extended.qcow2'), '1M', 'extended_l2=on')
        Qemu.io(extended, 'write -P 0x44 0 64k')
    }

    def cleanupSpec() { dir?.toFile()?.deleteDir() }

    static long l1(Path p) { getLong(p, L1_TABLE_OFFSET) }

    static long l2(Path p) { getLong(p, l1(p)) & OFFSET_MASK }

    static final Closure READ = { Path f -> Qcow2Image.open(f, OpenOptions.permissive()).withCloseable { it.read(0L, 65536) } }

    static final Closure WRITE = { Path f -> Qcow2Writer.open(f, WriteOptions.defaults()).withCloseable { it.write(100L, new byte[10]) } }

    def "#problem, #path path: CorruptImageException at #structure entry's file offset"() {
        given:
        Path f = copy(bases()[base], "${problem.replaceAll(/\W+/, '-')}-${path}.qcow2")
        long expectedOffset = at(f)
        long expectedRaw = raw(f)
        damage(f)

        when:
        (path == 'read' ? READ : WRITE)(f)

        then:
        CorruptImageException e = thrown()
        e.structure() == structure
        e.fileOffset() == expectedOffset
        e.rawValue() == expectedRaw
        e.message.startsWith(f.toString() + ': ')
        e.message.contains(reason)

        where:
        problem                          | base       | path    | damage                                                              || structure            | at                        | raw                                            | reason
        'L2 table offset unaligned'      | 'plain'    | 'read'  | { Path p -> putLong(p, l1(p), COPIED | l2(p) + 0x200) }            || 'L1 table'           | { Path p -> l1(p) }       | { Path p -> COPIED | l2(p) + 0x200 }          | 'L2 table offset 0x40200 unaligned'
        'L2 table offset unaligned'      | 'plain'    | 'write' | { Path p -> putLong(p, l1(p), COPIED | l2(p) + 0x200) }            || 'L1 table'           | { Path p -> l1(p) }       | { Path p -> COPIED | l2(p) + 0x200 }          | 'L2 table offset 0x40200 unaligned'
        'data cluster offset unaligned'  | 'plain'    | 'read'  | { Path p -> putLong(p, l2(p), COPIED | 0x50200) }                  || 'L2 table'           | { Path p -> l2(p) }       | { Path p -> COPIED | 0x50200 }                | 'Cluster allocation offset 0x50200 unaligned'
        'data cluster offset unaligned'  | 'plain'    | 'write' | { Path p -> putLong(p, l2(p), COPIED | 0x50200) }                  || 'L2 table'           | { Path p -> l2(p) }       | { Path p -> COPIED | 0x50200 }                | 'Data cluster offset 0x50200 unaligned'
        'compressed payload past EOF'    | 'zlib'     | 'read'  | { Path p -> putLong(p, l2(p), COMPRESSED | 3L << 54 | 1L << 30) }  || 'compressed cluster' | { Path p -> 1L << 30 }    | { Path p -> COMPRESSED | 3L << 54 | 1L << 30 } | 'does not decompress to a full cluster'
        'compressed payload past EOF'    | 'zlib'     | 'write' | { Path p -> putLong(p, l2(p), COMPRESSED | 3L << 54 | 1L << 30) }  || 'compressed cluster' | { Path p -> 1L << 30 }    | { Path p -> COMPRESSED | 3L << 54 | 1L << 30 } | 'does not decompress to a full cluster'
        'subcluster both data and zero'  | 'extended' | 'read'  | { Path p -> putLong(p, l2(p) + 8, getLong(p, l2(p) + 8) | 1L << 32) } || 'L2 table'      | { Path p -> l2(p) }       | { Path p -> getLong(p, l2(p)) }               | 'Invalid cluster entry found'
        'subcluster both data and zero'  | 'extended' | 'write' | { Path p -> putLong(p, l2(p) + 8, getLong(p, l2(p) + 8) | 1L << 32) } || 'L2 table'      | { Path p -> l2(p) }       | { Path p -> getLong(p, l2(p)) }               | 'invalid subcluster bitmap'
    }

    def "#problem: read and written as qemu-io does (zeros past EOF), no exception"() {
        given:
        Path f = copy(plain, "${problem.replaceAll(/\W+/, '-')}.qcow2")
        damage(f)
        Path twin = copy(f, "${problem.replaceAll(/\W+/, '-')}-qemu.qcow2")

        when: 'we read the damaged cluster, then write into it, and qemu-io writes the same into a twin'
        byte[] before = READ(f)
        Qcow2Writer.open(f, WriteOptions.defaults()).withCloseable { it.write(100L, ([7] * 10) as byte[]) }
        Qemu.io(twin, 'write -P 7 100 10')

        then:
        before == new byte[65536]
        READ(f) == Qemu.rawBytes(twin)[0..<65536] as byte[]

        where:
        problem                       | damage
        'L2 table past EOF'           | { Path p -> putLong(p, l1(p), COPIED | 1L << 30) }
        'data cluster past EOF'       | { Path p -> putLong(p, l2(p), COPIED | 1L << 30) }
    }

    Map<String, Path> bases() { [plain: plain, zlib: zlib, extended: extended] }
}
