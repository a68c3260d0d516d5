package dev.qcow2.dsl

import dev.qcow2.format.FeatureBits
import dev.qcow2.format.HeaderField
import dev.qcow2.testing.Damage
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * {@code open 'x', tolerant: true}: an image whose header contradicts itself (qemu-img refuses it,
 * and so does a plain open, with qemu's words) is read as evidence; info's {@code ignored} lists
 * what the open read past.
 */
class TolerantOpenSpec extends Specification {
    @TempDir Path dir

    def "#kind: a plain open refuses it with qemu-img's words; tolerant: true reads the data and lists what it ignored"() {
        given:
        Path img = Qemu.create(dir.resolve('c.qcow2'), '1M')
        Qemu.io(img, 'write -P 0x5a 0 64k')
        Damage.putField(img, field, Damage.getField(img, field) | bits)
        def shell = new DslShell()

        when:
        shell.evaluate("open '$img'")

        then:
        def e = thrown(DslException)
        e.message.contains(message)

        when:
        Record info = shell.evaluate("open '$img', tolerant: true")

        then:
        info.ignored.size() == 1
        info.ignored[0].contains(ignored)
        shell.session.image().read(0L, 4) == [0x5a, 0x5a, 0x5a, 0x5a] as byte[]

        when: 'tolerant reads only'
        shell.evaluate("open '$img', tolerant: true, writable: true")

        then:
        def w = thrown(DslException)
        w.message.contains('cannot be combined with writable: true')

        cleanup:
        shell?.close()

        where:
        kind                 | field                              | bits                                  | message                                  | ignored
        'LUKS, no crypto ext' | HeaderField.CRYPT_METHOD           | 2L                                    | 'Missing CRYPTO header for crypt method 2' | 'crypt_method 2 ignored'
        'data-file bit'      | HeaderField.INCOMPATIBLE_FEATURES  | FeatureBits.INCOMPAT_DATA_FILE        | "'data-file' is required for this image"  | 'external data file bit ignored'
        'data-file-raw bit'  | HeaderField.AUTOCLEAR_FEATURES     | FeatureBits.AUTOCLEAR_DATA_FILE_RAW   | 'data-file-raw requires a data file'      | 'data-file-raw bit ignored'
    }
}
