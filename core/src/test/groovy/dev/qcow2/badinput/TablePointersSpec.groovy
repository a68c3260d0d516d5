package dev.qcow2.badinput

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Damage

import dev.qcow2.CorruptImageException
import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.Timeout

import java.nio.file.Files
import java.nio.file.Path

import static dev.qcow2.testing.Damage.*

/**
 * L1/L2 tables and compressed clusters pointing past EOF, at each other, or at garbage
 * (qcow2.rst "Cluster mapping"). Where qemu-img convert reads the image (it reads zeros past
 * EOF) we read the same bytes; where it fails, reading fails with CorruptImageException naming
 * the same problem. The file never changes.
 */
@Timeout(30)
class TablePointersSpec extends Specification {
    static final long COPIED = 1L << 63, COMPRESSED = 1L << 62, OFFSET_MASK = 0x00ff_ffff_ffff_fe00L

    @Shared Path dir, plain, zlib, zstd

    def setupSpec() {
        dir = Files.createTempDirectory('qcow2-table-pointers')
        plain = Qemu.create(dir.resolve('plain.qcow2'), '1M')
        Qemu.io(plain, 'write -P 0x5a 0 64k')
        zlib = Qemu.create(dir.resolve('zlib.qcow2'), '1M')
        Qemu.io(zlib, 'write -c -P 0x33 0 64k')
        zstd = Qemu.create(dir.resolve('zstd.qcow2'), '1M', 'compression_type=zstd')
        Qemu.io(zstd, 'write -c -P 0x33 0 64k')
    }

    def cleanupSpec() { dir?.toFile()?.deleteDir() }

    static long l1(Path p) { getLong(p, L1_TABLE_OFFSET) }

    static long l2(Path p) { getLong(p, l1(p)) & OFFSET_MASK }

    def "#problem: qemu-img convert reads it, and we read the same bytes"() {
        given:
        Path f = copy(plain, "${problem.replaceAll(/\W+/, '-')}.qcow2")
        damage(f)
        String before = Sha256.of(f)

        expect:
        ourRaw(f) == Qemu.rawBytes(f)
        Sha256.of(f) == before

        where:
        problem                                  | damage
        'L1 table past EOF'                      | { Path p -> putLong(p, L1_TABLE_OFFSET, 1L << 30) }
        'L1 table = the header cluster'          | { Path p -> putLong(p, L1_TABLE_OFFSET, 0) }
        'L2 table = the L1 table'                | { Path p -> putLong(p, l1(p), COPIED | l1(p)) }
        'L2 table = the refcount table'          | { Path p -> putLong(p, l1(p), COPIED | getLong(p, REFCOUNT_TABLE_OFFSET)) }
        'L2 table past EOF'                      | { Path p -> putLong(p, l1(p), COPIED | 1L << 30) }
        'L2 entry pointing past EOF'             | { Path p -> putLong(p, l2(p), COPIED | 1L << 30) }
        'L2 entry pointing at the L2 table'      | { Path p -> putLong(p, l2(p), COPIED | l2(p)) }
        'refcount table past EOF'                | { Path p -> putLong(p, REFCOUNT_TABLE_OFFSET, 1L << 30) }
        'file truncated after the header'        | { Path p -> truncate(p, 112) }
        'file truncated inside the L1 table'     | { Path p -> truncate(p, l1(p) + 4) }
        'file truncated inside the data cluster' | { Path p -> truncate(p, l2(p) + 0x10000 + 4096) }
    }

    def "#problem: reading fails with CorruptImageException, as qemu-img convert fails"() {
        given:
        Path f = copy(bases()[base], "${problem.replaceAll(/\W+/, '-')}.qcow2")
        damage(f)
        String before = Sha256.of(f)

        expect: 'the image opens, and qemu-img cannot convert it either'
        Qemu.img('info', f.toString()).exit == 0
        qemuRefusal(['convert', '-O', 'raw', f.toString(), dir.resolve('out.raw').toString()]).contains(qemuReason)

        when:
        ourRaw(f)

        then:
        CorruptImageException e = thrown()
        e.message.startsWith(f.toString() + ': ')
        e.message.contains(reason)
        !e.message.contains('\n')
        Sha256.of(f) == before

        where:
        problem                                  | base    | damage                                                                   || reason                                | qemuReason
        'L2 table offset unaligned'              | 'plain' | { Path p -> putLong(p, l1(p), COPIED | l2(p) + 0x200) }                   || 'L2 table offset 0x40200 unaligned'   | 'L2 table offset 0x40200 unaligned'
        'L2 entry offset unaligned'              | 'plain' | { Path p -> putLong(p, l2(p), COPIED | 0x50200) }                          || 'Cluster allocation offset 0x50200 unaligned' | 'Cluster allocation offset 0x50200 unaligned'
        'compressed zlib payload is garbage'     | 'zlib'  | { Path p -> putBytes(p, getLong(p, l2(p)) & 0xffff_ffffL, ones(64)) }     || 'does not decompress to a full cluster' | 'Input/output error'
        'compressed zstd payload is garbage'     | 'zstd'  | { Path p -> putBytes(p, (getLong(p, l2(p)) & 0xffff_ffffL) + 4, ones(64)) } || 'does not decompress to a full cluster' | 'Input/output error'
        'compressed sectors run past EOF'        | 'zlib'  | { Path p -> putLong(p, l2(p), COMPRESSED | 255L << 54 | Files.size(p) - 512) } || 'does not decompress to a full cluster' | 'Input/output error'
        'compressed payload offset past EOF'     | 'zlib'  | { Path p -> putLong(p, l2(p), COMPRESSED | 3L << 54 | 1L << 30) }         || 'compressed cluster @0x40000000'      | 'Input/output error'
    }

    Map<String, Path> bases() { [plain: plain, zlib: zlib, zstd: zstd] }

    static byte[] ones(int n) { byte[] b = new byte[n]; Arrays.fill(b, (byte) 0xff); b }
}
