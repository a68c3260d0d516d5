package dev.qcow2.image

import dev.qcow2.Qcow2Exception
import dev.qcow2.format.FeatureBits
import dev.qcow2.format.HeaderContradiction
import dev.qcow2.format.HeaderField
import dev.qcow2.testing.Damage
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import dev.qcow2.write.Qcow2Writer
import dev.qcow2.write.WriteOptions
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * The one model of a header that contradicts itself ({@link HeaderContradiction}), as the
 * library's opens use it: a read open and a write open refuse with qemu's words; a metadata-only
 * open (qemu-img info's BDRV_O_NO_IO) refuses only what QEMU checks then; a tolerant open reads
 * past it and lists it.
 */
class HeaderContradictionSpec extends Specification {
    @TempDir Path dir

    Path image(HeaderField field, long bits) {
        Path img = Qemu.create(dir.resolve('c.qcow2'), '1M')
        Qemu.io(img, 'write -P 0x5a 0 64k')
        Damage.putField(img, field, field == HeaderField.CRYPT_METHOD ? bits : Damage.getField(img, field) | bits)
        img
    }

    def "#expected: refused by read and write opens, #metadataOnlyText by a metadata-only open, read past by a tolerant one"() {
        given:
        Path img = image(field, bits)
        def before = Sha256.of(img)

        when:
        Qcow2Image.open(img, OpenOptions.permissive()).close()

        then:
        def e = thrown(Qcow2Exception)
        e.message == "${img}: ${expected}"

        when:
        Qcow2Writer.open(img, WriteOptions.defaults()).close()

        then:
        def w = thrown(Qcow2Exception)
        w.message == "${img}: ${expected}"
        Sha256.of(img) == before

        when:
        List<HeaderContradiction> ignored = null
        byte[] data = null
        Qcow2Image.open(img, OpenOptions.permissive().withTolerant(true)).withCloseable {
            ignored = it.ignoredContradictions()
            data = it.read(0L, 4)
        }

        then:
        ignored*.message() == [expected]
        data == [0x5a, 0x5a, 0x5a, 0x5a] as byte[]

        when:
        boolean metadataOnlyOpens = true
        try {
            Qcow2Image.open(img, OpenOptions.defaults().withMetadataOnly(true)).close()
        } catch (Qcow2Exception ignoredError) {
            metadataOnlyOpens = false
        }

        then:
        metadataOnlyOpens == !refusedWhenMetadataOnly

        where:
        field                             | bits                                | expected                                   | refusedWhenMetadataOnly
        HeaderField.CRYPT_METHOD          | 2L                                  | 'Missing CRYPTO header for crypt method 2'  | false
        HeaderField.INCOMPATIBLE_FEATURES | FeatureBits.INCOMPAT_DATA_FILE      | "'data-file' is required for this image"   | false
        HeaderField.AUTOCLEAR_FEATURES    | FeatureBits.AUTOCLEAR_DATA_FILE_RAW | 'data-file-raw requires a data file'       | false
        metadataOnlyText = refusedWhenMetadataOnly ? 'refused' : 'opened'
    }

    def "an image made by qemu-img has no contradiction"() {
        given:
        Path img = Qemu.create(dir.resolve('ok.qcow2'), '1M', options)

        expect:
        Qcow2Image.open(img, OpenOptions.permissive()).withCloseable { it.ignoredContradictions() } == []

        where:
        options << [null, 'compat=0.10', 'data_file=ok.raw', 'data_file=ok2.raw,data_file_raw=on']
    }
}
