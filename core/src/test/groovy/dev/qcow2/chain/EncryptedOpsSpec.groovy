package dev.qcow2.chain

import dev.qcow2.Qcow2Exception
import dev.qcow2.check.ImageChecker
import dev.qcow2.convert.Qcow2Convert
import dev.qcow2.create.Preallocation
import dev.qcow2.crypto.Secret
import dev.qcow2.crypto.SecretLookup
import dev.qcow2.image.OpenOptions
import dev.qcow2.image.Qcow2Image
import dev.qcow2.repair.RepairMode
import dev.qcow2.repair.Repairer
import dev.qcow2.resize.Resizer
import dev.qcow2.snapshot.Snapshots
import dev.qcow2.testing.EncryptedImages
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import dev.qcow2.write.Qcow2Writer
import dev.qcow2.write.WriteOptions
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path
import java.time.Instant

/**
 * Snapshots, resize, commit, rebase, convert, check and repair on encrypted images: qemu-img
 * reads (with the secrets) what we did, and checks it clean.
 */
class EncryptedOpsSpec extends Specification {
    @TempDir Path dir

    static SecretLookup top(String pw) { EncryptedImages.top(pw) }

    static byte[] fill(int size, Map<List<Integer>, Integer> runs) {
        byte[] b = new byte[size]
        runs.each { r, v -> Arrays.fill(b, r[0], r[0] + r[1], (byte) v) }
        b
    }

    def "#format: snapshots created, applied and deleted by us around our writes read back in qemu-img"() {
        given:
        def img = EncryptedImages.createByUs(dir.resolve('e.qcow2'), '1M', format, 'pw', 'cluster_size=4096')
        EncryptedImages.io(img, 'pw', ['write -P 1 0 256k'])

        when:
        String first = Snapshots.open(img, top('pw')).withCloseable { it.create('first', Instant.ofEpochSecond(1)) }
        Qcow2Writer.open(img, WriteOptions.defaults().withSecrets(top('pw'))).withCloseable { it.write(1000, [2] * 9000 as byte[]) }
        Snapshots.open(img, top('pw')).withCloseable { it.create('second', Instant.ofEpochSecond(2)) }
        Qcow2Writer.open(img, WriteOptions.defaults().withSecrets(top('pw'))).withCloseable { it.write(200000, [3] * 100 as byte[]) }

        then: 'each snapshot reads as it was, in qemu-img and in our read path'
        byte[] atFirst = fill(1 << 20, [[0, 256 * 1024]: 1])
        byte[] atSecond = fill(1 << 20, [[0, 256 * 1024]: 1, [1000, 9000]: 2])
        EncryptedImages.raw(img, 'pw', 'first') == atFirst
        EncryptedImages.raw(img, 'pw', 'second') == atSecond
        Qcow2Image.open(img, OpenOptions.defaults().withSecrets(top('pw'))).withCloseable { it.snapshot('first').read(0, 1 << 20) } == atFirst
        EncryptedImages.check(img, 'pw').exit == 0

        when: 'apply the first, write, delete the second'
        Snapshots.open(img, top('pw')).withCloseable { it.apply(first) }
        Qcow2Writer.open(img, WriteOptions.defaults().withSecrets(top('pw'))).withCloseable { it.write(4096, [4] * 512 as byte[]) }
        Snapshots.open(img, top('pw')).withCloseable { it.delete('second') }

        then:
        EncryptedImages.raw(img, 'pw') == fill(1 << 20, [[0, 256 * 1024]: 1, [4096, 512]: 4])
        EncryptedImages.raw(img, 'pw', 'first') == atFirst
        EncryptedImages.check(img, 'pw').exit == 0

        where:
        format << ['aes', 'luks']
    }

    def "#format: snapshots need no key (metadata only; qemu-img asks for one all the same)"() {
        given:
        def img = EncryptedImages.createByUs(dir.resolve('e.qcow2'), '1M', format, 'pw')
        EncryptedImages.io(img, 'pw', ['write -P 3 0 100k'])
        def ref = Qemu.img(['snapshot', '-c', 's', img.toString()], false)

        when:
        Snapshots.open(img).withCloseable { it.create('nokey', Instant.ofEpochSecond(3)) }
        EncryptedImages.io(img, 'pw', ['write -P 4 0 4k'])

        then:
        ref.exit == 1
        ref.err.trim() == "qemu-img: Could not open '$img': Parameter 'encrypt.key-secret' is required for cipher"
        EncryptedImages.raw(img, 'pw', 'nokey') == fill(1 << 20, [[0, 100 * 1024]: 3])
        EncryptedImages.check(img, 'pw').exit == 0

        where:
        format << ['aes', 'luks']
    }

    def "#format: resize #mode from 1M to #newSize keeps the data qemu-img reads; check clean"() {
        given:
        def img = EncryptedImages.createByUs(dir.resolve('e.qcow2'), '1M', format, 'pw', 'cluster_size=65536')
        EncryptedImages.io(img, 'pw', ['write -P 7 0 1M'])

        when:
        Qcow2Writer.open(img, WriteOptions.defaults().withSecrets(top('pw'))).withCloseable { Resizer.resize(it, newSize, mode) }
        byte[] theirs = EncryptedImages.raw(img, 'pw')
        byte[] ours = Qcow2Image.open(img, OpenOptions.defaults().withSecrets(top('pw'))).withCloseable { it.read(0, (int) it.size()) }

        then: 'what stays reads back; a preallocated area reads as qemu reads it (decrypted file bytes, as qemu-img resize leaves it)'
        theirs.length == newSize
        ours == theirs
        Arrays.equals(theirs, 0, (int) Math.min(newSize, 1 << 20), fill(1 << 20, [[0, 1 << 20]: 7]), 0, (int) Math.min(newSize, 1 << 20))
        mode != Preallocation.OFF || newSize <= (1 << 20) || Arrays.equals(theirs, 1 << 20, (int) newSize, new byte[(int) newSize - (1 << 20)], 0, (int) newSize - (1 << 20))
        EncryptedImages.check(img, 'pw').exit == 0

        where:
        format | mode                    | newSize
        'luks' | Preallocation.OFF       | 3 << 20
        'luks' | Preallocation.OFF       | 512 * 1024 + 512
        'luks' | Preallocation.FALLOC    | 2 << 20
        'aes'  | Preallocation.OFF       | 3 << 20
        'aes'  | Preallocation.OFF       | 512 * 1024 + 512
        'aes'  | Preallocation.METADATA  | 2 << 20
        'aes'  | Preallocation.FALLOC    | 2 << 20
        'aes'  | Preallocation.FULL      | 2 << 20
    }

    def "#format: commit of an encrypted overlay into an encrypted base with another secret (json: backing name)"() {
        given:
        def base = EncryptedImages.create(dir.resolve('base.qcow2'), '1M', format, 'base-pw', 'cluster_size=4096', 's1')
        EncryptedImages.io(base, 'base-pw', ['write -P 0x11 0 1M'], 's1')
        String json = """json:{"driver":"qcow2","file.filename":"${base}","encrypt.key-secret":"s1"}"""
        def top = EncryptedImages.create(dir.resolve('top.qcow2'), '1M', format, 'top-pw', 'cluster_size=65536', 's2', ['-u', '-b', json, '-F', 'qcow2'])
        def s1 = EncryptedImages.secret('s1', 'base-pw')
        EncryptedImages.io(top, 'top-pw', ['write -P 0x22 5000 3000', 'write -z 300k 64k'], 's2', s1)
        byte[] expected = EncryptedImages.raw(top, 'top-pw', null, 's2', s1)
        def secrets = SecretLookup.byId([s1: Secret.ofString('base-pw'), s2: Secret.ofString('top-pw')], [0: 's2'])

        when:
        Commit.commit(top, new Commit.Options(null, false), secrets, Progress.NONE)

        then: 'the base holds the chain content, encrypted with its own key; the emptied top shows it through'
        EncryptedImages.raw(base, 'base-pw', null, 's1') == expected
        EncryptedImages.raw(top, 'top-pw', null, 's2', s1) == expected
        EncryptedImages.check(base, 'base-pw', 's1').exit == 0
        Qemu.img(['check'] + EncryptedImages.secret('s2', 'top-pw') + s1 + ['--image-opts', EncryptedImages.imageOpts(top, 's2')], false).exit == 0

        where:
        format << ['aes', 'luks']
    }

    def "#format: safe rebase of an encrypted overlay onto another encrypted base (json: name with its secret)"() {
        given:
        def oldBase = EncryptedImages.create(dir.resolve('old.qcow2'), '1M', format, 'old-pw', null, 's1')
        EncryptedImages.io(oldBase, 'old-pw', ['write -P 0x11 0 512k'], 's1')
        def newBase = EncryptedImages.create(dir.resolve('new.qcow2'), '1M', format, 'new-pw', null, 's3')
        EncryptedImages.io(newBase, 'new-pw', ['write -P 0x33 256k 512k'], 's3')
        def top = EncryptedImages.create(dir.resolve('top.qcow2'), '1M', format, 'top-pw', null, 's2', ['-u', '-b', oldBase.toString(), '-F', 'qcow2'])
        def s1 = EncryptedImages.secret('s1', 'old-pw')
        EncryptedImages.io(top, 'top-pw', ['write -P 0x22 100k 10k'], 's2', s1, 'backing.encrypt.key-secret=s1')
        byte[] before = readChain(top, [0: 's2', 1: 's1'])
        String json = """json:{"driver":"qcow2","file.filename":"${newBase}","encrypt.key-secret":"s3"}"""
        def objects = [s1: Secret.ofString('old-pw'), s2: Secret.ofString('top-pw'), s3: Secret.ofString('new-pw')]

        when:
        Rebase.rebase(top, new Rebase.Options(json, 'qcow2', false), SecretLookup.byId(objects, [0: 's2', 1: 's1']), Progress.NONE)

        then:
        EncryptedImages.raw(top, 'top-pw', null, 's2', EncryptedImages.secret('s3', 'new-pw')) == before
        Qemu.img(['check'] + EncryptedImages.secret('s2', 'top-pw') + EncryptedImages.secret('s3', 'new-pw')
                + ['--image-opts', EncryptedImages.imageOpts(top, 's2')], false).exit == 0

        where:
        format << ['aes', 'luks']
    }

    private byte[] readChain(Path top, Map<Integer, String> ids) {
        def objects = [s1: Secret.ofString('old-pw'), s2: Secret.ofString('top-pw'), s3: Secret.ofString('new-pw')]
        Qcow2Image.open(top, OpenOptions.permissive().withSecrets(SecretLookup.byId(objects, ids))).withCloseable { it.read(0, (int) it.size()) }
    }

    def "#format: convert from an encrypted image to a plain one reads through the key"() {
        given:
        def img = EncryptedImages.createByUs(dir.resolve('e.qcow2'), '2M', format, 'pw')
        EncryptedImages.io(img, 'pw', ['write -P 9 100 1M', 'write -z 64k 64k'])
        def out = dir.resolve('plain.qcow2')

        when:
        Qcow2Image.open(img, OpenOptions.defaults().withSecrets(top('pw'))).withCloseable { Qcow2Convert.convert(it, out, null, false, Progress.NONE) }

        then:
        Qemu.rawBytes(out) == EncryptedImages.raw(img, 'pw')
        Qemu.img('check', out.toString()).exit == 0

        where:
        format << ['aes', 'luks']
    }

    def "#format: convert -c to an encrypted target is refused before anything is created"() {
        given:
        def src = Qemu.create(dir.resolve('src.qcow2'), '1M')
        def out = dir.resolve('enc.qcow2')

        when:
        Qcow2Image.open(src).withCloseable {
            Qcow2Convert.convert(it, out, "encrypt.format=$format,encrypt.key-secret=s0", true, dev.qcow2.crypto.SecretObjects.none(), Progress.NONE)
        }

        then:
        def e = thrown(Qcow2Exception)
        e.message == 'Compression and encryption not supported at the same time'
        !out.toFile().exists()

        where:
        format << ['aes', 'luks']
    }

    def "#format: check and repair need the key as qemu-img check does (exit 1, qemu's line), and work with it"() {
        given:
        def img = EncryptedImages.createByUs(dir.resolve('e.qcow2'), '1M', format, 'pw')
        EncryptedImages.io(img, 'pw', ['write -P 1 0 200k'])
        def ref = Qemu.img(['check', img.toString()], false)
        def sha = Sha256.of(img)

        when:
        Qcow2Image.open(img, OpenOptions.forChecking()).withCloseable { ImageChecker.check(it) }

        then:
        def e = thrown(Qcow2Exception)
        ref.exit == 1
        ref.err.trim() == "qemu-img: Could not open '$img': Parameter 'encrypt.key-secret' is required for cipher"
        e.message == "$img: Parameter 'encrypt.key-secret' is required for cipher"

        when:
        Repairer.repair(img, RepairMode.ALL, { })

        then:
        def r = thrown(Qcow2Exception)
        r.message == e.message
        Sha256.of(img) == sha

        when:
        def report = Qcow2Image.open(img, OpenOptions.forChecking().withSecrets(top('pw'))).withCloseable { ImageChecker.check(it) }
        def repaired = Repairer.repair(img, RepairMode.ALL, { }, top('pw'))

        def inspection = Qcow2Image.open(img, OpenOptions.forChecking()).withCloseable { ImageChecker.scan(it, { }).report() }

        then: 'with the key it checks like qemu-img; the metadata scan of inspection views needs no key'
        report.exitCode() == 0
        report.imageEndOffset() == EncryptedImages.check(img, 'pw').json()['image-end-offset']
        inspection == report
        repaired.failure().isEmpty()
        Sha256.of(img) == sha

        where:
        format << ['aes', 'luks']
    }
}
