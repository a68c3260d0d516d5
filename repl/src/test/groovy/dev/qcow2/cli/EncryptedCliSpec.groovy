package dev.qcow2.cli

import dev.qcow2.dsl.DslShell
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * End to end with qemu-img as the oracle: LUKS and legacy-AES images made by qemu-img
 * (encrypt.iter-time=10), opened through every front end with qemu-img's secret syntax
 * ({@code --object secret,… --image-opts …,encrypt.key-secret=ID}, {@code json:} names, the
 * DSL's {@code secret:}); what we read must be what qemu-img reads, what we write qemu-img must
 * read back, and a wrong passphrase is one line, exit 1, nothing written.
 * (Needs the encryption work in core: LUKS/AES unlocking and encrypted data.)
 */
class EncryptedCliSpec extends Specification {
    static final String PW = 'correct horse'
    static final String PW2 = 'base-pass'

    @Shared @TempDir Path dir
    @Shared Map<String, Path> images = [:]

    static List<String> secret(String id, String pw) { ['--object', "secret,id=$id,data=$pw".toString()] }

    static String opts(Path file, String id = 'sec0', String extra = '') {
        "driver=qcow2,file.filename=$file,encrypt.key-secret=$id${extra ? ',' + extra : ''}".toString()
    }

    static Path create(Path file, String format, String pw, String size = '4M', List<String> extra = [], String options = null) {
        String o = "encrypt.format=$format,encrypt.key-secret=sec0" + (format == 'luks' ? ',encrypt.iter-time=10' : '') + (options ? ',' + options : '')
        Qemu.createEncrypted(file, ['create', '-q', '-f', 'qcow2'] + secret('sec0', pw) + extra + ['-o', o], size)
    }

    static void qemuIo(Path file, String pw, List<String> commands, List<String> moreObjects = [], String extraOpts = '') {
        def args = [Qemu.QEMU_IO] + secret('sec0', pw) + moreObjects + ['--image-opts', opts(file, 'sec0', extraOpts)]
        commands.each { args += ['-c', it] }
        def r = Qemu.run(args)
        assert r.exit == 0 && !r.out.contains('error') && !r.out.contains('failed') && !r.err: "qemu-io failed: $r"
    }

    static byte[] qemuRaw(List<String> objectsAndOperand) {
        Path out = Files.createTempFile('qemu', '.raw')
        Qemu.img(['convert', '-O', 'raw'] + objectsAndOperand + [out.toString()])
        byte[] b = Files.readAllBytes(out)
        Files.delete(out)
        b
    }

    def setupSpec() {
        for (String f : ['luks', 'aes']) {
            Path p = create(dir.resolve("${f}.qcow2"), f, PW)
            qemuIo(p, PW, ['write -P 0x5a 0 64k', 'write -P 0xa5 1M 100k', 'write -z 2M 64k'])
            images[f] = p
        }
        Path base = create(dir.resolve('base.qcow2'), 'luks', PW2)
        qemuIo(base, PW2, ['write -P 0x11 0 1M'])
        Path top = create(dir.resolve('top.qcow2'), 'luks', PW, '4M', [], "backing_file=$base,backing_fmt=qcow2")
        qemuIo(top, PW, ['write -P 0x22 512k 64k'], secret('sec1', PW2), 'backing.encrypt.key-secret=sec1')
        images.top = top
        images.base = base
    }

    def "#format: convert -O raw, check and info read the image as qemu-img does"() {
        given:
        Path img = images[format]
        Path ours = dir.resolve("ours-${format}.raw")
        List<String> objs = secret('sec0', PW) + ['--image-opts', opts(img)]

        when:
        def c = Cli.run(['convert', '-O', 'raw'] + objs + [ours.toString()])

        then:
        c.exit == 0
        Files.readAllBytes(ours) == qemuRaw(objs)

        when:
        def check = Cli.run(['check'] + objs)
        def qcheck = Qemu.img(['check'] + objs, false)

        then:
        check.exit == qcheck.exit
        check.out == qcheck.out

        when:
        def info = Cli.run(['info'] + objs)

        then:
        info.exit == 0
        info.out == Qemu.img(['info'] + objs).out

        where:
        format << ['luks', 'aes']
    }

    def "#format: check -r with the key repairs leaks as qemu-img check -r does"() {
        given: 'two copies of an image whose header cluster has refcount 2 (one leaked reference)'
        Path ours = Files.copy(images[format], dir.resolve("leak-ours-${format}.qcow2"))
        Path theirs = Files.copy(images[format], dir.resolve("leak-theirs-${format}.qcow2"))
        [ours, theirs].each { p ->
            new RandomAccessFile(p.toFile(), 'rw').withCloseable { f ->
                f.seek(48); long rt = f.readLong(); f.seek(rt); long rb = f.readLong()
                f.seek(rb); f.writeShort(2)
            }
        }

        when:
        def r = Cli.run(['check', '-r', 'leaks'] + secret('sec0', PW) + ['--image-opts', opts(ours)])
        def q = Qemu.img(['check', '-r', 'leaks'] + secret('sec0', PW) + ['--image-opts', opts(theirs)], false)

        then:
        r.exit == q.exit
        r.out == q.out
        Qemu.img(['check'] + secret('sec0', PW) + ['--image-opts', opts(ours)], false).exit == 0

        where:
        format << ['luks', 'aes']
    }

    def "a json: name and an encrypted overlay on an encrypted base with another secret read as in qemu-img"() {
        given:
        List<String> objs = secret('sec0', PW) + secret('sec1', PW2)
        String json = "json:{\"driver\":\"qcow2\",\"file\":{\"driver\":\"file\",\"filename\":\"${images.top}\"}," +
                "\"encrypt\":{\"key-secret\":\"sec0\"},\"backing\":{\"encrypt.key-secret\":\"sec1\"}}"
        Path a = dir.resolve('chain-a.raw')
        Path b = dir.resolve('chain-b.raw')

        expect:
        Cli.run(['convert', '-O', 'raw'] + objs + ['--image-opts', opts(images.top, 'sec0', 'backing.encrypt.key-secret=sec1'), a.toString()]).exit == 0
        Cli.run(['convert', '-O', 'raw'] + objs + [json, b.toString()]).exit == 0
        Files.readAllBytes(a) == qemuRaw(objs + ['--image-opts', opts(images.top, 'sec0', 'backing.encrypt.key-secret=sec1')])
        Files.readAllBytes(b) == Files.readAllBytes(a)
    }

    def "io reads what qemu-io wrote and qemu-io reads what io writes"() {
        given:
        Path img = create(dir.resolve('io.qcow2'), 'luks', PW)
        qemuIo(img, PW, ['write -P 0x33 0 128k'])

        when:
        def r = Cli.run(['io'] + secret('sec0', PW) + ['--image-opts', opts(img), '-c', 'read -P 0x33 0 128k', '-c', 'write -P 0x44 64k 4k'])

        then:
        r.exit == 0
        !r.out.contains('failed')

        expect:
        qemuIo(img, PW, ['read -P 0x33 0 64k', 'read -P 0x44 64k 4k', 'read -P 0x33 68k 60k'])
    }

    def "a wrong passphrase: exit 1, one line naming the file, nothing written"() {
        given:
        Path img = images.luks
        String before = Sha256.of(img)

        when:
        def r = Cli.run([command] + secret('sec0', 'wrong') + ['--image-opts', opts(img)] + extra)

        then:
        r.exit == 1
        r.err.readLines().size() == 1
        r.err.contains('Invalid password, cannot unlock any keyslot')
        r.err.contains(img.fileName.toString())
        !r.err.contains('wrong')
        Sha256.of(img) == before

        where:
        command   | extra
        'convert' | ['-O', 'raw', '/dev/null']
        'check'   | []
        'io'      | ['-c', 'write -P 1 0 4k']
        'resize'  | ['8M']
    }

    def "without a key, reading the data fails as qemu-img does"() {
        when:
        def r = Cli.run('convert', '-O', 'raw', images.luks, dir.resolve('nokey.raw'))

        then:
        r.exit == 1
        r.err.contains("Parameter 'encrypt.key-secret' is required for cipher")
    }

    def "create and convert -O qcow2 write encrypted images qemu-img opens with the same secret"() {
        given:
        Path created = dir.resolve('created.qcow2')
        Path converted = dir.resolve('converted.qcow2')

        when:
        def c = Cli.run(['create'] + secret('sec0', PW) + ['-o', 'encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10', created.toString(), '1M'])
        def v = Cli.run(['convert', '-O', 'qcow2'] + secret('sec0', PW) + secret('new', PW2)
                + ['-o', 'encrypt.format=luks,encrypt.key-secret=new,encrypt.iter-time=10', '--image-opts', opts(images.luks), converted.toString()])

        then:
        c.exit == 0
        v.exit == 0
        Qemu.img(['check'] + secret('sec0', PW) + ['--image-opts', opts(created)]).exit == 0
        qemuRaw(secret('s', PW2) + ['--image-opts', opts(converted, 's')]) == qemuRaw(secret('sec0', PW) + ['--image-opts', opts(images.luks)])
    }

    def "#format: commit, snapshot and resize take the operand's secrets: qemu-img reads the result as its own would be"() {
        given:
        Path base = create(dir.resolve("cbase-${format}.qcow2"), format, PW2)
        qemuIo(base, PW2, ['write -P 0x11 0 1M'])
        Path top = create(dir.resolve("ctop-${format}.qcow2"), format, PW, '4M', [], "backing_file=$base,backing_fmt=qcow2")
        qemuIo(top, PW, ['write -P 0x22 512k 64k'], secret('sec1', PW2), 'backing.encrypt.key-secret=sec1')
        List<String> objs = secret('sec0', PW) + secret('sec1', PW2)
        String topOpts = opts(top, 'sec0', 'backing.encrypt.key-secret=sec1')
        byte[] before = qemuRaw(objs + ['--image-opts', topOpts])

        when:
        def s = Cli.run(['snapshot', '-c', 'snap1'] + objs + ['--image-opts', topOpts])
        def c = Cli.run(['commit', '-d'] + objs + ['--image-opts', topOpts])
        def r = Cli.run(['resize'] + objs + ['--image-opts', opts(base, 'sec1'), '8M'])

        then:
        s.exit == 0
        c.exit == 0
        r.exit == 0
        Qemu.img(['snapshot', '-l'] + objs + ['--image-opts', topOpts]).out.contains('snap1')
        Arrays.copyOf(qemuRaw(secret('sec1', PW2) + ['--image-opts', opts(base, 'sec1')]), before.length) == before
        Qemu.img(['check'] + secret('sec1', PW2) + ['--image-opts', opts(base, 'sec1')]).exit == 0

        where:
        format << ['luks', 'aes']
    }

    def "the DSL opens with secret: and reads what qemu-img reads"() {
        given:
        def shell = new DslShell()

        when:
        shell.evaluate("open '${images.luks}', secret: '$PW'")
        def bytes = shell.evaluate("read 1.MiB, 16").bytes

        then:
        bytes == ([(byte) 0xa5] * 16) as byte[]

        cleanup:
        shell.close()
    }
}
