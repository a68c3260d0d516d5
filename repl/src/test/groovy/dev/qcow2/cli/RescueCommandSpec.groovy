package dev.qcow2.cli

import dev.qcow2.testing.Qemu
import groovy.json.JsonSlurper
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** {@code qcow2 rescue}: a new image, the report (human and JSON), exit 1 with one line when nothing is recoverable. */
class RescueCommandSpec extends Specification {
    @TempDir Path dir

    Path imageWithZeroedHeader() {
        def raw = dir.resolve('disk.raw')
        byte[] data = new byte[4 << 20]
        new Random(3).nextBytes(data)
        Files.write(raw, data)
        def img = dir.resolve('disk.qcow2')
        Qemu.img('convert', '-O', 'qcow2', raw.toString(), img.toString())
        def bytes = Files.readAllBytes(img)
        Arrays.fill(bytes, 0, 65536, (byte) 0)
        Files.write(img, bytes)
        img
    }

    def "rescue --output=#format writes OUT holding the guest data and reports the evidence"() {
        given:
        def img = imageWithZeroedHeader()
        def out = dir.resolve('out.qcow2')

        when:
        def r = Cli.run(['rescue', "--output=$format", img, out])

        then:
        r.exit == 0
        r.err == ''
        Qemu.img(['compare', '-q', dir.resolve('disk.raw').toString(), out.toString()], false).exit == 0
        check(r.out)

        where:
        format  | check
        'human' | { String o -> o.contains('lost: header') && o.contains('active-tables: 64 (certain)') }
        'json'  | { String o -> def j = new JsonSlurper().parseText(o); j.'cluster-size' == 65536 && j.placed.'active-tables'.clusters == 64 && j.'placed-inferred' == 0 }
    }

    def "nothing recoverable: exit 1 and one line"() {
        given:
        def junk = dir.resolve('junk')
        byte[] b = new byte[1 << 20]
        new Random(2).nextBytes(b)
        Files.write(junk, b)

        when:
        def r = Cli.run(['rescue', junk, dir.resolve('o.qcow2')])

        then:
        r.exit == 1
        r.err.readLines().size() == 1
        r.err.contains('nothing recoverable')
    }

    /** A LUKS image (4 MiB of random bytes, qemu-img convert, secret 'pw') with its header cluster zeroed. */
    Path luksWithZeroedHeader() {
        def raw = dir.resolve('secret.raw')
        byte[] data = new byte[4 << 20]
        new Random(5).nextBytes(data)
        Files.write(raw, data)
        def img = dir.resolve('secret.qcow2')
        def r = Qemu.kdfTimed(['convert', '-O', 'qcow2', '--object', 'secret,id=s0,data=pw', '-o',
                'encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10', raw.toString(), img.toString()])
        assert r.exit == 0: r.err
        def bytes = Files.readAllBytes(img)
        Arrays.fill(bytes, 0, 65536, (byte) 0)
        Files.write(img, bytes)
        img
    }

    def "an encrypted image rescued with its secret as qemu-img takes it: OUT is plain and holds the guest"() {
        given:
        def img = luksWithZeroedHeader()
        def out = dir.resolve('plain.qcow2')

        when:
        def r = Cli.run(['rescue', '--output=json', '--object', 'secret,id=s0,data=pw', '--image-opts',
                "driver=qcow2,file.filename=$img,encrypt.key-secret=s0".toString(), out])

        then:
        r.exit == 0
        !r.out.contains('pw"') && !r.err.contains('pw')
        new JsonSlurper().parseText(r.out).structures.any { it.kind == 'LUKS header' && it.status == 'found' }
        Qemu.img(['compare', '-q', dir.resolve('secret.raw').toString(), out.toString()], false).exit == 0
    }

    def "#problem: exit 1, one line, nothing written"() {
        given:
        def img = luksWithZeroedHeader()
        def out = dir.resolve('never.qcow2')
        def argv = args.collect { it.replace('IMG', img.toString()).replace('DIR', dir.toString()) }

        when:
        def r = Cli.run(['rescue'] + argv + [out.toString()])

        then:
        r.exit == 1
        r.err.readLines().size() == 1
        r.err.contains(message)
        !r.err.contains('sesame')
        !Files.exists(out)

        where:
        problem          | args                                                                                                     | message
        'missing secret' | ['IMG']                                                                                                  | 'without the secret'
        'bad secret'     | ['--object', 'secret,id=s0,data=sesame', '--image-opts', 'driver=qcow2,file.filename=IMG,encrypt.key-secret=s0'] | 'Invalid password'
        'unknown secret' | ['--object', 'secret,id=s0,data=sesame', '--image-opts', 'driver=qcow2,file.filename=IMG,encrypt.key-secret=s9'] | "No secret with id 's9'"
        'missing base'   | ['-b', 'DIR/no-base.qcow2', '-F', 'qcow2', 'IMG']                                                        | 'no-base.qcow2'
        'missing data file' | ['--data-file', 'DIR/no.data', 'IMG']                                                                 | 'no.data'
    }
}
