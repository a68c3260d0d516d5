package dev.qcow2.crypto

import dev.qcow2.Qcow2Exception
import dev.qcow2.CorruptImageException
import dev.qcow2.image.Qcow2Image
import dev.qcow2.mapping.Extent
import dev.qcow2.storage.FileStorage
import dev.qcow2.testing.Qemu
import dev.qcow2.units.GuestOffset
import groovy.json.JsonSlurper
import spock.lang.Specification
import spock.lang.TempDir
import spock.lang.Unroll

import java.nio.ByteBuffer
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardOpenOption
import java.util.Arrays

/**
 * qemu-img creates LUKS and AES images with every cipher/mode/IV generator/hash it accepts,
 * qemu-io writes a pattern through the cipher; we unlock the image with the same passphrase and
 * decrypt the host cluster qemu wrote: the pattern must come back.
 */
class LuksQemuSpec extends Specification {
    @TempDir Path dir

    static List<String> imageOpts(Path file) {
        ['--object', 'secret,id=sec0,data=abc', '--image-opts',
         "driver=qcow2,file.filename=${file},encrypt.key-secret=sec0".toString()]
    }

    static void qemuWrite(Path file, String command) {
        def r = Qemu.run([Qemu.QEMU_IO] + imageOpts(file) + ['-c', command])
        assert r.exit == 0 && !r.err: "qemu-io $command failed: $r"
    }

    /** Decrypts the host bytes behind guest range [guest, guest+length) of a data cluster. */
    static byte[] decryptGuest(Path file, long guest, int length, String passphrase) {
        try (Qcow2Image img = Qcow2Image.open(file)) {
            Extent e = img.mapper().extent(new GuestOffset(guest), length)
            assert e instanceof Extent.Data
            long host = ((Extent.Data) e).hostOffset().value()
            byte[] buf = new byte[length]
            img.storage().readFully(host, ByteBuffer.wrap(buf))
            try (def secret = Secret.ofString(passphrase)
                 def cipher = ImageEncryption.unlock(file.toString(), img.storage(), img.header(), secret)) {
                cipher.decrypt(cipher.ivFromHostOffset() ? host : guest, buf, 0, length)
            }
            buf
        }
    }

    @Unroll
    def "LUKS #cipher #mode #ivgen #ivhash hash #hash: we decrypt what qemu-io wrote"() {
        given:
        def opts = ["encrypt.iter-time=10", "encrypt.cipher-alg=$cipher", "encrypt.cipher-mode=$mode",
                    "encrypt.hash-alg=$hash"]
        if (ivgen) opts << "encrypt.ivgen-alg=$ivgen"
        if (ivhash) opts << "encrypt.ivgen-hash-alg=$ivhash"
        def file = Qemu.createLuks(dir.resolve('l.qcow2'), '4M', opts.join(','))
        qemuWrite(file, 'write -P 0x5a 65536 65536')
        qemuWrite(file, 'write -P 0xc3 1048576 4096')

        expect:
        Arrays.equals(decryptGuest(file, 65536, 65536, 'abc'), ([(byte) 0x5a] * 65536) as byte[])
        Arrays.equals(decryptGuest(file, 1048576, 4096, 'abc'), ([(byte) 0xc3] * 4096) as byte[])

        when: 'a wrong passphrase'
        decryptGuest(file, 65536, 512, 'abd')
        then:
        def e = thrown(Qcow2Exception)
        e.message.contains('Invalid password, cannot unlock any keyslot')

        where:
        cipher        | mode  | ivgen     | ivhash   | hash
        'aes-256'     | 'xts' | 'plain64' | null     | 'sha256'
        'aes-128'     | 'xts' | 'plain64' | null     | 'sha256'
        'aes-192'     | 'xts' | 'plain64' | null     | 'sha1'
        'aes-256'     | 'cbc' | 'plain64' | null     | 'sha256'
        'aes-128'     | 'cbc' | 'plain'   | null     | 'sha512'
        'aes-256'     | 'cbc' | 'essiv'   | 'sha256' | 'sha256'
        'aes-128'     | 'cbc' | 'essiv'   | 'md5'    | 'md5'
        'aes-256'     | 'xts' | 'plain64' | null     | 'sha224'
        'aes-256'     | 'xts' | 'plain64' | null     | 'sha384'
        'aes-256'     | 'xts' | 'plain64' | null     | 'ripemd160'
        'serpent-256' | 'xts' | 'plain64' | null     | 'sha256'
        'serpent-128' | 'cbc' | 'essiv'   | 'md5'    | 'sha256'
        'serpent-192' | 'xts' | 'plain'   | null     | 'sha256'
        'twofish-256' | 'xts' | 'plain64' | null     | 'sha256'
        'twofish-128' | 'cbc' | 'plain64' | null     | 'sha1'
        'twofish-192' | 'xts' | 'plain64' | null     | 'sha256'
        'cast5-128'   | 'cbc' | 'plain64' | null     | 'sha256'
        'aes-256'     | 'ctr' | 'plain64' | null     | 'sha256'
        'aes-128'     | 'ecb' | null      | null     | 'sha256'
        'aes-256'     | 'ecb' | 'essiv'   | 'sha256' | 'sha256'
    }

    def "legacy AES: key padded to 16 bytes, IV from the guest sector"() {
        given:
        def file = dir.resolve('a.qcow2')
        def r = Qemu.img(['create', '-q', '-f', 'qcow2', '--object', 'secret,id=sec0,data=abc', '-o',
                          'encrypt.format=aes,encrypt.key-secret=sec0', file.toString(), '4M'], false)
        assert r.exit == 0: r
        qemuWrite(file, 'write -P 0x77 3145728 65536')

        expect:
        Arrays.equals(decryptGuest(file, 3145728, 65536, 'abc'), ([(byte) 0x77] * 65536) as byte[])
    }

    def "info's LUKS fields are qemu-img's"() {
        given:
        def file = Qemu.createLuks(dir.resolve('i.qcow2'), '1M', 'encrypt.iter-time=10,encrypt.cipher-mode=cbc,encrypt.ivgen-alg=essiv,encrypt.ivgen-hash-alg=sha256')
        def qemu = new JsonSlurper().parseText(Qemu.img('info', '--output=json', file.toString()).out)

        expect:
        try (Qcow2Image img = Qcow2Image.open(file)) {
            def ours = ImageEncryption.describe(file.toString(), img.storage(), img.header()).get().qemuFields()
            assert ours == qemu['format-specific']['data']['encrypt']
            assert ours.keySet() as List == qemu['format-specific']['data']['encrypt'].keySet() as List
            true
        }
    }

    @Unroll
    def "a damaged LUKS header is one clear error: #what"() {
        given:
        def file = Qemu.createLuks(dir.resolve('d.qcow2'), '1M', 'encrypt.iter-time=10')
        long area
        try (Qcow2Image img = Qcow2Image.open(file)) {
            area = ImageEncryption.luksArea(file.toString(), img.storage(), img.header()).offset()
        }
        try (def ch = java.nio.channels.FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(bytes as byte[]), area + at)
        }

        when:
        try (Qcow2Image img = Qcow2Image.open(file); def s = Secret.ofString('abc')) {
            ImageEncryption.unlock(file.toString(), img.storage(), img.header(), s)
        }

        then:
        def e = thrown(Qcow2Exception)
        e.message.contains(message)
        !e.message.contains('\n')

        where:
        what                      | at              | bytes                            | message
        'bad magic'               | 0               | [0, 0, 0, 0]                     | 'Volume is not in LUKS format'
        'version 2'               | 6               | [0, 2]                           | 'LUKS version 2 is not supported'
        'huge key bytes'          | 108             | [0x7f, 0xff, 0xff, 0xff]         | 'LUKS key size'
        'slot 0 stripes 0'        | 208 + 44        | [0, 0, 0, 0]                     | 'Keyslot 0 is corrupted (stripes 0 != 4000)'
        'slot 0 stripes huge'     | 208 + 44        | [0x7f, 0xff, 0xff, 0xff]         | 'Keyslot 0 is corrupted'
        'slot 0 state garbage'    | 208             | [1, 2, 3, 4]                     | 'Keyslot 0 state (active/disable) is corrupted'
        'slot 0 in the header'    | 208 + 40        | [0, 0, 0, 0]                     | 'Keyslot 0 is overlapping with the LUKS header'
        'slot 0 past the payload' | 208 + 40        | [0x7f, 0xff, 0xff, 0xff]         | 'Keyslot 0 is overlapping with the encrypted payload'
        'slot 1 onto slot 0'      | 208 + 48 + 40   | [0, 0, 0, 8]                     | 'Keyslots 0 and 1 are overlapping'
        'cipher unknown'          | 8               | 'blowfish'.bytes as List         | 'Unsupported cipher'
        'hash unknown'            | 72              | 'whirlpool'.bytes as List        | 'Unsupported hash'
    }

    def "crypt method 2 without the crypto header extension: qemu's message"() {
        given:
        def file = Qemu.create(dir.resolve('n.qcow2'), '1M')
        try (def ch = java.nio.channels.FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).putInt(0, 2), 32)
        }

        when:
        try (Qcow2Image img = Qcow2Image.open(file); def s = Secret.ofString('abc')) {
            ImageEncryption.unlock(file.toString(), img.storage(), img.header(), s)
        }

        then:
        def e = thrown(Qcow2Exception)
        e.message.contains('Missing CRYPTO header for crypt method 2')
    }
}
