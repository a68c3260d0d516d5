package dev.qcow2.format

import dev.qcow2.storage.FileStorage
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.file.Path

import static dev.qcow2.testing.Damage.*

/** Header extensions (qcow2.rst "Header extensions") as qemu-img writes them, decoded. */
class ExtensionSpec extends Specification {
    @TempDir Path dir

    static Qcow2Header header(Path f) {
        FileStorage.openReadOnly(f).withCloseable { Qcow2Header.read(it) }
    }

    def "the feature-name table carries QEMU's names for every known bit"() {
        given:
        Path f = Qemu.create(dir.resolve('f.qcow2'), '1M')

        when:
        def names = header(f).featureNames().collect { [it.featureType(), it.bit(), it.name()] }

        then:
        names as Set == [[0, 0, 'dirty bit'], [0, 1, 'corrupt bit'], [0, 2, 'external data file'],
                         [0, 3, 'compression type'], [0, 4, 'extended L2 entries'], [1, 0, 'lazy refcounts'],
                         [2, 0, 'bitmaps'], [2, 1, 'raw external data']] as Set
    }

    def "backing format #format"() {
        given:
        Path base = dir.resolve("base.$format")
        Qemu.img('create', '-q', '-f', format, base.toString(), '1M')
        Path f = Qemu.create(dir.resolve('top.qcow2'), '1M', null, ['-b', base.fileName.toString(), '-F', format])

        expect:
        header(f).extension(HeaderExtension.BackingFormat).get().format() == format

        where:
        format << ['qcow2', 'raw']
    }

    def "external data file name, and the raw-data autoclear bit"() {
        given:
        Path f = Qemu.create(dir.resolve('d.qcow2'), '1M', 'data_file=d.raw,data_file_raw=on')

        when:
        Qcow2Header h = header(f)

        then:
        h.externalDataFile() == Optional.of('d.raw')
        h.hasExternalDataFile()
        h.dataFileRaw()
    }

    def "bitmaps extension: count, directory size and cluster-aligned offset"() {
        given:
        Path f = Qemu.create(dir.resolve('b.qcow2'), '1M')
        Qemu.img('bitmap', '--add', f.toString(), 'b0')
        Qemu.img('bitmap', '--add', f.toString(), 'second')

        when:
        Qcow2Header h = header(f)
        def ext = h.extension(HeaderExtension.Bitmaps).get()

        then:
        h.bitmapsConsistent()
        ext.nbBitmaps() == 2
        ext.reserved() == 0
        ext.directorySize() == ((24 + 2 + 7) & ~7) + ((24 + 6 + 7) & ~7)
        ext.directoryOffset() % h.clusterSize() == 0
    }

    def "crypto header pointer of a LUKS image"() {
        given:
        Path f = dir.resolve('luks.qcow2')
        Qemu.createLuks(f, '1M', 'encrypt.iter-time=10')

        when:
        Qcow2Header h = header(f)
        def crypto = h.extension(HeaderExtension.CryptoHeader).get()

        then:
        h.cryptMethod() == Qcow2Header.CRYPT_LUKS
        crypto.headerOffset() % h.clusterSize() == 0
        crypto.headerLength() > 0
    }

    def "an unknown extension is kept verbatim, and of a repeated type the last one counts (as in QEMU)"() {
        given: 'replace the end marker with: unknown 0x12345678 "hello", backing-format "qcow2", then "raw"'
        Path f = Qemu.create(dir.resolve('u.qcow2'), '1M')
        long end = extensionOffset(f, 0)
        def b = ByteBuffer.allocate(64)
        b.putInt(0x12345678).putInt(5).put('hello'.bytes).put(new byte[3])
        b.putInt(HeaderExtension.BACKING_FORMAT).putInt(5).put('qcow2'.bytes).put(new byte[3])
        b.putInt(HeaderExtension.BACKING_FORMAT).putInt(3).put('raw'.bytes).put(new byte[5])
        putBytes(f, end, b.array())

        when:
        Qcow2Header h = header(f)
        def unknown = h.extensions().find { it instanceof HeaderExtension.Unknown } as HeaderExtension.Unknown

        then:
        unknown.type() == 0x12345678
        new String(unknown.data()) == 'hello'
        unknown.offset() == end
        h.backingFormat() == Optional.of('raw')
        h.extensions().count { it instanceof HeaderExtension.BackingFormat } == 2
    }
}
