package dev.qcow2.cli

import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * A distinctive passphrase fed through every way the CLI takes one (--object data=, file=,
 * base64, JSON) on paths that fail: it must not appear on stdout or stderr, whatever goes wrong.
 */
class SecretLeakSpec extends Specification {
    static final String PASS = 'Zq9-Sup3r-S3cret-7x'
    static final String PASS64 = PASS.bytes.encodeBase64().toString()

    @Shared @TempDir Path dir
    @Shared Path plain
    @Shared Path luks
    @Shared Path passFile

    def setupSpec() {
        plain = Qemu.create(dir.resolve('plain.qcow2'), '1M')
        luks = Qemu.createLuks(dir.resolve('luks.qcow2'), '1M', 'encrypt.iter-time=10')
        passFile = dir.resolve('pw.txt')
        Files.writeString(passFile, PASS)
    }

    def "no output of a failing command line shows the passphrase: #args"() {
        given:
        List<String> line = args.collect {
            it.replace('PASS64', PASS64).replace('PASS', PASS).replace('PLAIN', plain.toString()).replace('LUKS', luks.toString())
                    .replace('PWFILE', passFile.toString()).replace('DIR', dir.toString())
        }

        when:
        def r = Cli.run(line)

        then:
        r.exit != 0
        !r.out.contains(PASS)
        !r.err.contains(PASS)
        !r.out.contains(PASS64)
        !r.err.contains(PASS64)
        args.contains('--debug') || r.err.readLines().size() <= 2     // one line (and picocli's hint); --debug adds the stack trace

        where:
        args << [
                ['info', '--object', 'secret,id=sec0,data=PASS,bogus=1', 'PLAIN'],
                ['info', '--object', 'secret,id=sec0,data=Zq9,-Sup3r-S3cret-7x', 'PLAIN'],      // an unescaped comma
                ['info', '--object', 'secret,id=sec0,data=PASS,data.x=1', 'PLAIN'],
                ['info', '--object', 'secret,id=sec0,data=PASS,format=base64', 'PLAIN'],
                ['info', '--object', 'secret,id=sec0,data=PASS64,format=base64,keyid=nope,iv=x', 'PLAIN'],
                ['info', '--object', 'secret,id=sec0,data=PASS', '--object', 'secret,id=sec0,data=PASS', 'PLAIN'],
                ['info', '--object', 'secret,id=sec0,data=PASS,file=PWFILE', 'PLAIN'],
                ['info', '--object', '{"qom-type":"secret","id":"sec0","data":"PASS",}', 'PLAIN'],
                ['info', '--object', '{"qom-type":"secret","id":"sec0","data":PASS}', 'PLAIN'],
                ['info', '--object', '{"qom-type":"secret","id":"sec0","data":["PASS"]}', 'PLAIN'],
                ['info', '--object', 'secret,id=sec0,data=PASS', '--image-opts', 'driver=qcow2,file.filename=PLAIN,bogus=1'],
                ['info', '--object', 'secret,id=sec0,data=PASS', '--image-opts', 'driver=qcow2,file.filename=DIR/missing.qcow2'],
                ['convert', '-O', 'raw', '--object', 'secret,id=sec0,data=PASS', '--image-opts',
                 'driver=qcow2,file.filename=LUKS,encrypt.key-secret=sec1', 'DIR/out.raw'],
                ['convert', '-O', 'raw', '--object', 'secret,id=sec0,file=PWFILE', '--image-opts',
                 'driver=qcow2,file.filename=LUKS,encrypt.key-secret=sec1', 'DIR/out.raw'],
                ['undo', '--object', 'secret,id=sec0,data=PASS', 'PLAIN'],                    // picocli: unknown option
                ['info', '--objekt', 'secret,id=sec0,data=PASS', 'PLAIN'],
                ['info', '--object=secret,id=sec0,data=PASS', 'PLAIN', 'extra'],
                ['create', '--object', 'secret,id=sec0,data=PASS', '-o', 'encrypt.format=luks,encrypt.key-secret=nope', 'DIR/n.qcow2', '1M'],
                ['compare', '--object', 'secret,id=sec0,data=PASS', '--image-opts',
                 'driver=qcow2,file.filename=LUKS,encrypt.key-secret=sec1', 'driver=qcow2,file.filename=PLAIN'],
                ['info', '--debug', '--object', 'secret,id=sec0,data=PASS,bogus=1', 'PLAIN'],
        ]
    }
}
