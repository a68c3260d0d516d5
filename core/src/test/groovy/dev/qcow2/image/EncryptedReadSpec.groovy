package dev.qcow2.image

import dev.qcow2.Qcow2Exception
import dev.qcow2.crypto.Secret
import dev.qcow2.crypto.SecretLookup
import dev.qcow2.testing.EncryptedImages
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** We read what qemu-io wrote into encrypted images: the guest, its snapshots, a chain with a secret per layer. */
class EncryptedReadSpec extends Specification {
    @TempDir Path dir

    static final List<String> WRITES = ['write -P 0x11 0 1000', 'write -P 0x22 1500 70000', 'write -z 300k 100k',
                                        'write -P 0x33 2M 4097', 'write -c -P 0x44 3M 64k', 'write -P 0x55 4095k 1k']

    def "#format, #options (created by #maker): the whole guest qemu-io wrote reads as qemu-img convert with the secret reads it, in any chunking"() {
        given: 'the LUKS header made by qemu-img or by us (LuksQemuSpec and LuksCreateSpec test the headers; here qemu-io writes the data)'
        def img = maker == 'us' ? EncryptedImages.createByUs(dir.resolve('e.qcow2'), '4M', format, 'pw-1', options)
                : EncryptedImages.create(dir.resolve('e.qcow2'), '4M', format, 'pw-1', options)
        EncryptedImages.io(img, 'pw-1', WRITES.findAll { !(it.contains('-c') && options.contains('2M')) })
        byte[] expected = EncryptedImages.raw(img, 'pw-1')
        def sha = Sha256.of(img)

        when:
        def i = Qcow2Image.open(img, OpenOptions.defaults().withSecrets(EncryptedImages.top('pw-1')))
        byte[] whole = i.read(0, (int) i.size())
        byte[] pieces = ChunkedReads.readAll(i, new Random(7))
        i.close()

        then:
        whole == expected
        ChunkedReads.firstDifference(pieces, expected) == -1
        Sha256.of(img) == sha

        where:
        format | options                             | maker
        'aes'  | 'cluster_size=512'                  | 'qemu-img'
        'aes'  | 'cluster_size=65536'                | 'qemu-img'
        'aes'  | 'cluster_size=2M'                   | 'qemu-img'
        'aes'  | 'extended_l2=on,cluster_size=65536' | 'qemu-img'
        'aes'  | 'compat=0.10'                       | 'qemu-img'
        'luks' | 'cluster_size=512'                  | 'us'
        'luks' | 'cluster_size=65536'                | 'qemu-img'
        'luks' | 'cluster_size=2M'                   | 'us'
        'luks' | 'extended_l2=on,cluster_size=65536' | 'us'
        'luks-aes128-cbc-essiv' | 'cluster_size=65536' | 'qemu-img'
        'luks-aes256-cbc-plain' | 'cluster_size=4096'  | 'us'
    }

    def "#format: the host bytes are not the guest bytes (the data really is encrypted), and a wrong key reads other bytes"() {
        given:
        def img = EncryptedImages.create(dir.resolve('e.qcow2'), '1M', format, 'right')
        EncryptedImages.io(img, 'right', ['write -P 0x61 0 64k'])

        when:
        byte[] plain = Qcow2Image.open(img, OpenOptions.defaults().withSecrets(EncryptedImages.top('right'))).withCloseable { it.read(0, 4096) }
        byte[] file = java.nio.file.Files.readAllBytes(img)

        then:
        plain == ([0x61 as byte] * 4096) as byte[]
        indexOf(file, plain[0..511] as byte[]) < 0

        where:
        format << ['aes', 'luks', 'luks-aes128-cbc-essiv']
    }

    def "#format without a secret: metadata opens, data reads fail with qemu's one line, zero ranges still read"() {
        given:
        def img = EncryptedImages.create(dir.resolve('e.qcow2'), '1M', format, 'pw')
        EncryptedImages.io(img, 'pw', ['write -P 1 0 64k', 'write -z 64k 64k'])

        when:
        def i = Qcow2Image.open(img, OpenOptions.defaults())
        i.header()
        i.read(0, 512)

        then:
        def e = thrown(Qcow2Exception)
        e.message == "$img: Parameter 'encrypt.key-secret' is required for cipher"

        when:
        byte[] zeros = i.read(64 * 1024, 64 * 1024)

        then:
        zeros == new byte[64 * 1024]
        i.encryption() instanceof Encryption.Locked
        format.startsWith(i.encryptionFormat())

        cleanup:
        i?.close()

        where:
        format << ['aes', 'luks', 'luks-aes128-cbc-essiv']
    }

    def "#format: block status hides host offsets as qemu-img map does with the secret"() {
        given:
        def img = EncryptedImages.createByUs(dir.resolve('e.qcow2'), '2M', format, 'pw')
        EncryptedImages.io(img, 'pw', ['write -P 1 0 64k', 'write -z 128k 64k', 'write -P 2 1M 100k'])
        def ref = EncryptedImages.map(img, 'pw')

        when:
        def ours = Qcow2Image.open(img, OpenOptions.defaults().withSecrets(EncryptedImages.top('pw'))).withCloseable { ChainMap.walk(it, 0, it.size()) }

        then:
        ours.collect { [it.start(), it.length(), it.depth(), it.present(), it.zero(), it.data(), it.offset()] } ==
                ref.collect { [it.start, it.length, it.depth, it.present, it.zero, it.data, it.offset ?: -1L] }
        ref.every { it.offset == null }

        where:
        format << ['aes', 'luks', 'luks-aes128-cbc-essiv']
    }

    def "#format: snapshots read through the same path (qemu-img convert -l)"() {
        given:
        def img = EncryptedImages.createByUs(dir.resolve('e.qcow2'), '1M', format, 'pw', 'cluster_size=4096')
        EncryptedImages.io(img, 'pw', ['write -P 1 0 100k'])
        Qemu.img(['snapshot', '-c', 'one'] + EncryptedImages.secret('s0', 'pw') + ['--image-opts', EncryptedImages.imageOpts(img, 's0')])
        EncryptedImages.io(img, 'pw', ['write -P 2 2k 50k', 'write -z 80k 8k'])
        byte[] snap = EncryptedImages.raw(img, 'pw', 'one')
        byte[] now = EncryptedImages.raw(img, 'pw')

        when:
        def i = Qcow2Image.open(img, OpenOptions.defaults().withSecrets(EncryptedImages.top('pw')))

        then:
        i.snapshot('one').read(0, (int) i.size()) == snap
        i.read(0, (int) i.size()) == now
        snap != now

        cleanup:
        i?.close()

        where:
        format << ['aes', 'luks', 'luks-aes128-cbc-essiv']
    }

    def "an encrypted overlay on an encrypted base with another secret: json: backing name with encrypt.key-secret, per-depth lookup"() {
        given: 'base (secret s1) and an overlay (secret s2) whose backing name is json:{..., "encrypt.key-secret":"s1"}'
        def base = EncryptedImages.create(dir.resolve('base.qcow2'), '1M', baseFormat, 'base-pw', null, 's1')
        EncryptedImages.io(base, 'base-pw', ['write -P 0x11 0 1M'], 's1')
        String json = """json:{"driver":"qcow2","file":{"driver":"file","filename":"${base}"},"encrypt.key-secret":"s1"}"""
        def top = EncryptedImages.create(dir.resolve('top.qcow2'), '1M', topFormat, 'top-pw', null, 's2',
                ['-u', '-b', json, '-F', 'qcow2'])
        def s1 = EncryptedImages.secret('s1', 'base-pw')
        EncryptedImages.io(top, 'top-pw', ['write -P 0x22 4k 8k', 'write -P 0x33 100000 1000'], 's2', s1)
        byte[] expected = EncryptedImages.raw(top, 'top-pw', null, 's2', s1)
        def objects = [s1: Secret.ofString('base-pw'), s2: Secret.ofString('top-pw')]

        when: 'qemu-img style: secret objects by id, the top named by depth 0, the base by its json: name'
        byte[] ours = Qcow2Image.open(top, OpenOptions.permissive().withSecrets(SecretLookup.byId(objects, [0: 's2']))).withCloseable {
            it.read(0, (int) it.size())
        }

        then:
        ours == expected
        expected[0] == 0x11 as byte && expected[5000] == 0x22 as byte

        when: 'both name a secret for the base: as in qemu-img, backing.encrypt.key-secret wins over the json: name'
        def objectsWithWrong = objects + [s3: Secret.ofString('wrong-pw')]
        def qRaw = dir.resolve('q.raw')
        def q = Qemu.run([Qemu.QEMU_IMG, 'convert', '-O', 'raw'] + EncryptedImages.secret('s2', 'top-pw') + s1
                + EncryptedImages.secret('s3', 'wrong-pw') + ['--image-opts', EncryptedImages.imageOpts(top, 's2') + ',backing.encrypt.key-secret=s3',
                qRaw.toString()])
        byte[] oursWrong = null
        String oursError = null
        try {
            oursWrong = Qcow2Image.open(top, OpenOptions.permissive().withSecrets(SecretLookup.byId(objectsWithWrong, [0: 's2', 1: 's3'])))
                    .withCloseable { it.read(0, (int) it.size()) }
        } catch (Qcow2Exception refused) {
            oursError = refused.message
        }

        then: 'LUKS refuses the wrong passphrase; legacy AES takes any key and both read the same wrong bytes'
        if (baseFormat == 'luks') {
            assert q.exit != 0 && q.err.contains('Invalid password, cannot unlock any keyslot')
            assert oursError?.contains('Invalid password, cannot unlock any keyslot')
        } else {
            assert q.exit == 0 && oursError == null
            assert oursWrong == Files.readAllBytes(qRaw) && oursWrong != expected
        }

        when: 'the base secret by depth (backing.encrypt.key-secret) with a plain backing name'
        Qemu.img(['rebase', '-u', '-b', base.toString(), '-F', 'qcow2'] + EncryptedImages.secret('s2', 'top-pw')
                + ['--image-opts', EncryptedImages.imageOpts(top, 's2')])
        byte[] byDepth = Qcow2Image.open(top, OpenOptions.permissive().withSecrets(SecretLookup.byId(objects, [0: 's2', 1: 's1']))).withCloseable {
            it.read(0, (int) it.size())
        }

        then:
        byDepth == expected

        when: 'no secret for the base: its data fails with qemu message, the top still reads'
        def i = Qcow2Image.open(top, OpenOptions.permissive().withSecrets(SecretLookup.byId(objects, [0: 's2'])))
        i.read(8192, 1024)
        i.read(512 * 1024, 512)

        then:
        def e = thrown(Qcow2Exception)
        e.message.endsWith("Parameter 'encrypt.key-secret' is required for cipher")

        cleanup:
        i?.close()

        where:
        baseFormat | topFormat
        'aes'      | 'aes'
        'luks'     | 'luks'
        'aes'      | 'luks-aes128-cbc-essiv'
    }

    def "a json: backing name whose encrypt.format is not the backing file's: qemu's message"() {
        given:
        def base = EncryptedImages.create(dir.resolve('base.qcow2'), '1M', 'aes', 'base-pw', null, 's1')
        String json = """json:{"driver":"qcow2","file.filename":"${base}","encrypt.key-secret":"s1","encrypt.format":"luks"}"""
        def top = Qemu.create(dir.resolve('top.qcow2'), '1M', null, ['-u', '-b', json, '-F', 'qcow2'])
        def ref = Qemu.img(['info', '--backing-chain'] + EncryptedImages.secret('s1', 'base-pw') + [top.toString()], false)

        when:
        Qcow2Image.open(top, OpenOptions.permissive())

        then:
        def e = thrown(Qcow2Exception)
        ref.err.contains("Header reported 'aes' encryption format but options specify 'luks'")
        e.message == "$top: Could not open backing file: $base: Header reported 'aes' encryption format but options specify 'luks'"
    }

    def "a json: backing name naming a secret that was not given: qemu's 'No secret with id'"() {
        given:
        def base = EncryptedImages.create(dir.resolve('base.qcow2'), '1M', 'aes', 'base-pw', null, 's1')
        EncryptedImages.io(base, 'base-pw', ['write -P 0x11 0 64k'], 's1')
        String json = """json:{"driver":"qcow2","file.filename":"${base}","encrypt.key-secret":"s1"}"""
        def top = Qemu.create(dir.resolve('top.qcow2'), '1M', null, ['-u', '-b', json, '-F', 'qcow2'])

        when:
        Qcow2Image.open(top, OpenOptions.permissive()).withCloseable { it.read(0, 512) }

        then:
        def e = thrown(Qcow2Exception)
        e.message == "$base: No secret with id 's1'"
    }

    def "json: backing names are parsed as QEMU flattens them; unknown options are refused in one line"() {
        expect:
        BackingName.parse('x', name) == expected

        where:
        name                                                                                      || expected
        'base.qcow2'                                                                              || new BackingName('base.qcow2', Optional.empty(), Optional.empty(), Optional.empty(), false, false)
        'json:{"driver":"qcow2","file":{"driver":"file","filename":"b.qcow2"}}'                  || new BackingName('b.qcow2', Optional.of('qcow2'), Optional.empty(), Optional.empty(), false, true)
        'json:{"file.filename":"a b\\"c","encrypt.key-secret":"k","backing":null}'                || new BackingName('a b"c', Optional.empty(), Optional.of('k'), Optional.empty(), true, true)
        'json:{ "encrypt" : { "key-secret" : "k2", "format": "luks" }, "file" : "f" }'             || new BackingName('f', Optional.empty(), Optional.of('k2'), Optional.of('luks'), false, true)
    }

    def "an image whose json: backing name is bad still opens for inspection; following it fails in one line"() {
        given:
        String bad = 'json:{"file.filename":"b.qcow2","cache.direct":true}'
        def img = Qemu.create(dir.resolve('top.qcow2'), '1M', null, ['-u', '-b', bad, '-F', 'qcow2'])

        when:
        def link = Qcow2Image.open(img, OpenOptions.defaults()).withCloseable { it.backingLink().get() }

        then:
        link.name() == bad
        link.fullName() == bad

        when:
        Qcow2Image.open(img, OpenOptions.permissive())

        then:
        def e = thrown(Qcow2Exception)
        e.message == "$img: backing file '$bad': option 'cache.direct' is not supported"
    }

    def "bad json: backing names: #name"() {
        when:
        BackingName.parse('img', name)

        then:
        def e = thrown(Qcow2Exception)
        e.message == "img: $message"

        where:
        name                                          || message
        'json:{"file.filename":"f","cache.direct":true}' || """backing file 'json:{"file.filename":"f","cache.direct":true}': option 'cache.direct' is not supported"""
        'json:{"driver":"qcow2"}'                     || """backing file 'json:{"driver":"qcow2"}' names no file (file.filename)"""
        'json:{"file":"f"'                            || """Could not parse the JSON options of backing file 'json:{"file":"f"': expected '}' at character 16"""
        'json:{"file":["f"]}'                         || """Could not parse the JSON options of backing file 'json:{"file":["f"]}': unexpected '[' at character 13"""
        'json:{"driver":"vmdk","file":"f"}'           || "Could not open backing file: Unknown driver 'vmdk'"
    }

    static int indexOf(byte[] hay, byte[] needle) {
        for (int i = 0; i + needle.length <= hay.length; i += 512) {
            if (Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) return i
        }
        -1
    }
}
