package dev.qcow2.crypto

import dev.qcow2.Qcow2Exception
import dev.qcow2.create.CreateOptions
import dev.qcow2.create.ImageCreator
import dev.qcow2.create.ImageMeasure
import dev.qcow2.create.OptionList
import dev.qcow2.format.HeaderExtension
import dev.qcow2.format.Qcow2Header
import dev.qcow2.image.Qcow2Image
import dev.qcow2.testing.Qemu
import groovy.json.JsonSlurper
import spock.lang.Specification
import spock.lang.TempDir
import spock.lang.Unroll

import java.nio.file.Files
import java.nio.file.Path
import java.util.Arrays

/**
 * Images we create encrypted open in qemu: qemu-img check finds them clean, qemu-io writes and
 * reads through the passphrase, the layout (L1, LUKS area, file length) is qemu-img's own for
 * the same options; salts and keys are random, so bytes differ.
 */
class LuksCreateSpec extends Specification {
    @TempDir Path dir

    static SecretObjects secrets(String pw = 'abc') { new SecretObjects([sec0: Secret.ofString(pw)]) }

    static Map header(Path file) {
        try (Qcow2Image img = Qcow2Image.open(file)) {
            def h = img.header()
            def c = h.extension(HeaderExtension.CryptoHeader).orElse(null)
            [crypt: h.cryptMethod(), l1: h.l1TableOffset(), cryptoOffset: c?.headerOffset(), cryptoLength: c?.headerLength(),
             length: Files.size(file)]
        }
    }

    @Unroll
    def "create -o #opts: qemu opens, checks and uses it; layout equals qemu-img's"() {
        given:
        def ours = dir.resolve('ours.qcow2')
        def theirs = dir.resolve('theirs.qcow2')
        def all = "encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10" + (opts ? ",$opts" : '')
        def list = new OptionList().add(all).add("size=$size".toString())

        when:
        ImageCreator.create(ours, ImageCreator.validate(ours, list), secrets())
        Qemu.createLuks(theirs, size, "encrypt.iter-time=10" + (opts ? ",$opts" : ''))

        then: 'same layout as qemu-img'
        header(ours) == header(theirs)

        and: 'qemu-img check is clean and info shows the same cipher'
        Qemu.run([Qemu.QEMU_IMG, 'check'] + LuksQemuSpec.imageOpts(ours)).exit == 0
        def qi = new JsonSlurper().parseText(Qemu.img('info', '--output=json', ours.toString()).out)['format-specific']['data']['encrypt']
        def ti = new JsonSlurper().parseText(Qemu.img('info', '--output=json', theirs.toString()).out)['format-specific']['data']['encrypt']
        qi.findAll { k, v -> !(k in ['uuid', 'slots', 'master-key-iters']) } == ti.findAll { k, v -> !(k in ['uuid', 'slots', 'master-key-iters']) }
        qi.slots*.'key-offset' == ti.slots*.'key-offset'
        qi.slots*.active == ti.slots*.active

        when: 'qemu-io writes through our key slot; we decrypt it'
        LuksQemuSpec.qemuWrite(ours, 'write -P 0x3c 0 65536')
        then:
        // the first 512 bytes: one host cluster at every cluster size
        Arrays.equals(LuksQemuSpec.decryptGuest(ours, 0, 512, 'abc'), ([(byte) 0x3c] * 512) as byte[])
        Qemu.run([Qemu.QEMU_IO] + LuksQemuSpec.imageOpts(ours) + ['-c', 'read -P 0x3c 0 65536']).out.contains('read 65536/65536')

        where:
        opts                                                                              | size
        null                                                                              | '1M'
        'encrypt.cipher-alg=aes-128,encrypt.cipher-mode=cbc,encrypt.ivgen-alg=essiv'      | '3M'
        'encrypt.cipher-alg=serpent-256,encrypt.hash-alg=sha512'                          | '1M'
        'encrypt.cipher-alg=twofish-128,encrypt.ivgen-alg=plain'                          | '1M'
        'encrypt.cipher-alg=cast5-128,encrypt.cipher-mode=cbc'                            | '1M'
        'cluster_size=512'                                                                | '1M'
        'cluster_size=2M'                                                                 | '5M'
        'preallocation=metadata'                                                          | '20M'
        'preallocation=full'                                                              | '3M'
        'extended_l2=on,cluster_size=128k'                                                | '700M'
    }

    def "legacy AES: crypt method 1, no LUKS area; qemu reads what it writes with the key"() {
        given:
        def ours = dir.resolve('aes.qcow2')

        when:
        ImageCreator.create(ours, ImageCreator.validate(ours, new OptionList().add('encrypt.format=aes,encrypt.key-secret=sec0,size=4M')), secrets())
        LuksQemuSpec.qemuWrite(ours, 'write -P 0x11 1048576 65536')

        then:
        header(ours).crypt == Qcow2Header.CRYPT_AES
        header(ours).cryptoOffset == null
        Arrays.equals(LuksQemuSpec.decryptGuest(ours, 1048576, 65536, 'abc'), ([(byte) 0x11] * 65536) as byte[])
    }

    @Unroll
    def "bad encryption options are refused with qemu's words: #opts"() {
        given:
        def f = dir.resolve('bad.qcow2')

        when:
        ImageCreator.create(f, ImageCreator.validate(f, new OptionList().add(opts + ',size=1M')), secrets())

        then:
        def e = thrown(Qcow2Exception)
        e.message.contains(message)
        !Files.exists(f)

        where:
        opts                                                                                   | message
        'encrypt.format=luks'                                                                  | "Parameter 'encrypt.key-secret' is required for cipher"
        'encryption=on'                                                                        | "Parameter 'encrypt.key-secret' is required for cipher"
        'encrypt.format=luks,encrypt.key-secret=t'                                             | "No secret with id 't'"
        'encryption=on,encrypt.format=luks,encrypt.key-secret=sec0'                            | "'encrypt.format' and its alias 'encryption' can't be used at the same time"
        'encrypt.format=aes,encrypt.key-secret=sec0,encrypt.cipher-alg=aes-256'                | "Parameter 'encrypt.cipher-alg' is unexpected"
        'encrypt.format=luks,encrypt.key-secret=sec0,encrypt.cipher-alg=foo'                   | "Parameter 'cipher-alg' does not accept value 'foo'"
        'encrypt.format=luks,encrypt.key-secret=sec0,encrypt.cipher-mode=cbc,encrypt.ivgen-alg=essiv,encrypt.ivgen-hash-alg=sha1' | 'No AES cipher with key size 20 available'
        'encrypt.format=foo,encrypt.key-secret=sec0'                                           | "Parameter 'format' does not accept value 'foo'"
        'encrypt.format=luks,encrypt.key-secret=sec0,encrypt.cipher-alg=cast5-128'             | 'Unsupported cipher mode xts'
        'encrypt.format=luks,encrypt.key-secret=sec0,encrypt.cipher-alg=aes-192,encrypt.cipher-mode=cbc,encrypt.iter-time=10' | 'not a whole number of sectors'
        'encrypt.key-secret=sec0'                                                              | "Parameter 'encrypt.key-secret' is unexpected"
    }

    def "measure counts the LUKS area like qemu-img measure"() {
        given:
        def args = ['measure', '--output=json', '-O', 'qcow2', '--object', 'secret,id=sec0,data=x', '-o',
                    "encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10$extra".toString(), '--size', '1G']
        // qemu-img times PBKDF2 even to measure
        def r = Qemu.kdfTimed(args)
        assert r.exit == 0: r
        def qemu = new JsonSlurper().parseText(r.out)
        def ours = ImageMeasure.qcow2(new OptionList().add("encrypt.format=luks,encrypt.key-secret=sec0$extra".toString()).add('size=1G'), null)

        expect:
        ours.required() == qemu.required
        ours.fullyAllocated() == qemu['fully-allocated']

        where:
        extra << ['', ',encrypt.cipher-alg=aes-128,encrypt.cipher-mode=cbc']
    }
}
