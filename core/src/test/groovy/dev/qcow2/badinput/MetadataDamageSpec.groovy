package dev.qcow2.badinput

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Damage

import dev.qcow2.CorruptImageException
import dev.qcow2.ImageLimitException
import dev.qcow2.Qcow2Exception
import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.Timeout

import java.nio.file.Files
import java.nio.file.Path

import static dev.qcow2.testing.Damage.*

/**
 * Damaged header extensions, bitmap directories and snapshot tables: refused with qemu-img's
 * reason (one line, file name first, file unchanged), and no allocation sized by the damage.
 */
@Timeout(30)
class MetadataDamageSpec extends Specification {
    static final long BITMAPS = 0x23852875L, FEATURE_NAME_TABLE = 0x6803f857L

    @Shared Path dir, plain, bitmaps, snapshots

    def setupSpec() {
        dir = Files.createTempDirectory('qcow2-metadata-damage')
        plain = Qemu.create(dir.resolve('plain.qcow2'), '1M')
        bitmaps = Qemu.create(dir.resolve('bitmaps.qcow2'), '1M')
        Qemu.img('bitmap', '--add', bitmaps.toString(), 'b0')
        Qemu.io(bitmaps, 'write -P 1 0 64k')
        snapshots = Qemu.create(dir.resolve('snapshots.qcow2'), '1M')
        Qemu.io(snapshots, 'write -P 1 0 64k')
        Qemu.img('snapshot', '-c', 's1', snapshots.toString())
        Qemu.io(snapshots, 'write -P 2 0 64k')
    }

    def cleanupSpec() { dir?.toFile()?.deleteDir() }

    def "#problem: refused on open like qemu-img, reason '#reason'"() {
        given:
        Path f = copy(bases()[base], "${problem.replaceAll(/\W+/, '-')}.qcow2")
        damage(f)
        String before = Sha256.of(f)

        expect:
        qemuRefusal(['info', f.toString()]).contains(qemuReason ?: reason)

        when:
        exercise(f)

        then:
        Qcow2Exception e = thrown()
        type.isInstance(e)
        e.message.startsWith(f.toString() + ': ')
        e.message.contains(reason)
        !e.message.contains('\n')
        Sha256.of(f) == before

        where:
        problem                              | base        | damage                                                          || type                  | reason                                         | qemuReason
        'extension length past cluster end'  | 'plain'     | { Path p -> putInt(p, extensionOffset(p, FEATURE_NAME_TABLE) + 4, 70000) } || CorruptImageException | 'Header extension too large'  | null
        'bitmaps extension, nb_bitmaps 0'    | 'bitmaps'   | { Path p -> putInt(p, extensionOffset(p, BITMAPS) + 8, 0) }     || CorruptImageException | 'found bitmaps extension with zero bitmaps'    | null
        'bitmaps extension, nb_bitmaps 70000' | 'bitmaps'  | { Path p -> putInt(p, extensionOffset(p, BITMAPS) + 8, 70000) } || ImageLimitException   | 'Image has 70000 bitmaps, exceeding the QEMU supported maximum of 65535' | null
        'bitmap directory size 1 TiB'        | 'bitmaps'   | { Path p -> putLong(p, extensionOffset(p, BITMAPS) + 16, 1L << 40) } || ImageLimitException | 'bitmap directory size (1099511627776) exceeds the maximum supported size (67107840)' | null
        'bitmap directory offset unaligned'  | 'bitmaps'   | { Path p -> putLong(p, extensionOffset(p, BITMAPS) + 24, 0x10008) } || CorruptImageException | 'bitmaps_ext: invalid bitmap directory offset'| null
        // QEMU reads zeros past EOF and then finds an entry with an empty name
        'bitmap directory past EOF'          | 'bitmaps'   | { Path p -> putLong(p, extensionOffset(p, BITMAPS) + 24, 1L << 30) } || CorruptImageException | 'bitmap directory @0x40000000: table of 32 bytes extends past the end of the file' | "Bitmap '' doesn't satisfy the constraints"
        'bitmap directory of 64 MiB past EOF' | 'bitmaps'  | { Path p -> putLong(p, extensionOffset(p, BITMAPS) + 16, 1024L * 65535) } || CorruptImageException | 'extends past the end of the file' | 'More bitmaps found than specified in header extension'
        // a negative offset once escaped as the JDK's IllegalArgumentException ("Negative position")
        'bitmap directory offset negative'   | 'bitmaps'   | { Path p -> putLong(p, extensionOffset(p, BITMAPS) + 24, 0xffff_ffff_ffff_0000L) } || CorruptImageException | 'bitmap directory: table of 32 bytes extends past the end of the file' | 'Failed to read bitmap directory'
        'bitmap table offset negative'       | 'bitmaps'   | { Path p -> putLong(p, getLong(p, extensionOffset(p, BITMAPS) + 24), 0xffff_ffff_ffff_0000L) } || CorruptImageException | "bitmap table of 'b0': table of 8 bytes extends past the end of the file" | "Could not read bitmap_table table from image for bitmap 'b0'"
        'snapshot extra_data_size 1025'      | 'snapshots' | { Path p -> putInt(p, getLong(p, SNAPSHOTS_OFFSET) + 36, 1025) } || ImageLimitException  | 'Too much extra metadata in snapshot table entry 0' | null
        'nb_snapshots 65536 over real data'  | 'snapshots' | { Path p -> putInt(p, NB_SNAPSHOTS, 65536) }                    || ImageLimitException   | 'Too much extra metadata in snapshot table entry' | null
    }

    def "snapshot whose #problem: the image opens, opening that snapshot fails like qemu-img convert -l"() {
        given:
        Path f = copy(snapshots, "snapshot-${problem.replaceAll(/\W+/, '-')}.qcow2")
        damage(f)
        String before = Sha256.of(f)

        expect:
        qemuRefusal(['convert', '-O', 'raw', '-l', 's1', f.toString(), dir.resolve('out.raw').toString()]).contains(reason)
        ourRaw(f) == Qemu.rawBytes(f)

        when:
        ourRaw(f, 's1')

        then:
        Qcow2Exception e = thrown()
        type.isInstance(e)
        e.message.startsWith(f.toString() + ': ')
        e.message.contains(reason)
        Sha256.of(f) == before

        where:
        problem                       | damage                                                                || type                  | reason
        'l1_size is 0xFFFFFFFF'       | { Path p -> putInt(p, getLong(p, SNAPSHOTS_OFFSET) + 8, 0xFFFFFFFFL) } || ImageLimitException   | 'Snapshot L1 table too large'
        'l1_table_offset is unaligned' | { Path p -> putLong(p, getLong(p, SNAPSHOTS_OFFSET), 0x30008) }      || CorruptImageException | 'Snapshot L1 table offset invalid'
    }

    def "#problem: qemu-img opens it, so do we, and the disk reads the same"() {
        given:
        Path f = copy(bases()[base], "${problem.replaceAll(/\W+/, '-')}.qcow2")
        damage(f)
        String before = Sha256.of(f)

        expect:
        Qemu.img('info', f.toString()).exit == 0
        ourRaw(f) == Qemu.rawBytes(f)
        Sha256.of(f) == before

        where:
        problem                                    | base        | damage
        'repeated unknown extension'               | 'plain'     | { Path p -> putBytes(p, extensionOffset(p, 0), extensions([0x12345678L, 'abcd'], [0x12345678L, 'abcd'])) }
        'repeated backing-format extension'        | 'plain'     | { Path p -> putBytes(p, extensionOffset(p, 0), extensions([0xe2792acaL, 'raw'], [0xe2792acaL, 'raw'])) }
        'nb_snapshots 65536, table past EOF'       | 'plain'     | { Path p -> putInt(p, NB_SNAPSHOTS, 65536); putLong(p, SNAPSHOTS_OFFSET, 1L << 30) }
        'snapshot table past EOF'                  | 'snapshots' | { Path p -> putLong(p, SNAPSHOTS_OFFSET, 1L << 30) }
    }

    Map<String, Path> bases() { [plain: plain, bitmaps: bitmaps, snapshots: snapshots] }

    /** Header extensions (type, data), each padded to 8 bytes, then the end marker. */
    static byte[] extensions(List... typeAndData) {
        def out = new ByteArrayOutputStream()
        typeAndData.each { t, String data ->
            def b = java.nio.ByteBuffer.allocate(8 + ((data.length() + 7) & ~7))
            b.putInt((int) (long) t).putInt(data.length()).put(data.bytes)
            out.write(b.array())
        }
        out.write(new byte[8])
        out.toByteArray()
    }
}
