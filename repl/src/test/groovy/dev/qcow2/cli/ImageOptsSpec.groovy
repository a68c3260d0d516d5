package dev.qcow2.cli

import dev.qcow2.crypto.Secret
import dev.qcow2.crypto.SecretLookup
import dev.qcow2.crypto.SecretObjects
import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * Image operands as qemu-img takes them: {@code --image-opts driver=qcow2,file.filename=…,
 * encrypt.key-secret=ID,backing.encrypt.key-secret=ID2} and {@code json:{…}} names, mapped to the
 * file, the format and which secret object unlocks each depth of the chain; qemu-img's messages
 * for options it refuses.
 */
class ImageOptsSpec extends Specification {
    @Shared @TempDir Path dir
    @Shared Path plain
    @Shared Path luks

    def setupSpec() {
        plain = Qemu.create(dir.resolve('plain.qcow2'), '1M')
        luks = Qemu.createLuks(dir.resolve('luks.qcow2'), '1M', 'encrypt.iter-time=10')
    }

    static SecretObjects objects(Map<String, String> m) {
        new SecretObjects(m.collectEntries { k, v -> [k, Secret.ofString(v)] })
    }

    def "#operand maps to file #file, format #format, secrets by depth #ids"() {
        given:
        def arg = imageOpts ? ImageArg.ofImageOpts(operand, null, SecretObjects.none(), new PrintWriter(new StringWriter()))
                : ImageArg.of(operand, null, SecretObjects.none())

        expect:
        arg.file() == file
        arg.format() == format
        arg.secretIds() == ids

        where:
        imageOpts | operand                                                                                        || file      | format  | ids
        true      | 'driver=qcow2,file.filename=x.qcow2'                                                           || 'x.qcow2' | 'qcow2' | [:]
        true      | 'file.filename=x.qcow2,encrypt.key-secret=s'                                                   || 'x.qcow2' | null    | [0: 's']
        true      | 'driver=qcow2,file.driver=file,file.filename=a,,b.qcow2,encrypt.key-secret=s0'                 || 'a,b.qcow2' | 'qcow2' | [0: 's0']
        true      | 'driver=qcow2,file.filename=t,encrypt.key-secret=s0,backing.encrypt.key-secret=s1,backing.backing.encrypt.key-secret=s2' || 't' | 'qcow2' | [0: 's0', 1: 's1', 2: 's2']
        true      | 'driver=raw,file.filename=r.img'                                                               || 'r.img'   | 'raw'   | [:]
        true      | 'driver=file,filename=r.img'                                                                   || 'r.img'   | 'raw'   | [:]
        true      | 'driver=qcow2,file.filename=x,encrypt.key-secret=a,encrypt.key-secret=b'                       || 'x'       | 'qcow2' | [0: 'b']
        true      | 'driver=qcow2,file.filename=x,read-only=on,l2-cache-size=1M,file.locking=off'                   || 'x'       | 'qcow2' | [:]
        false     | 'x.qcow2'                                                                                      || 'x.qcow2' | null    | [:]
        false     | 'json:{"driver":"qcow2","file":{"driver":"file","filename":"x"},"encrypt.key-secret":"s"}'     || 'x'       | 'qcow2' | [0: 's']
        false     | 'json:{"driver":"qcow2","file.filename":"x","encrypt":{"key-secret":"s"},"backing":{"encrypt.key-secret":"b"}}' || 'x' | 'qcow2' | [0: 's', 1: 'b']
    }

    def "the lookup gives each depth its secret; an image option wins over a layer's own key-secret (a json: backing name), as qemu-img"() {
        given:
        def objs = objects(s0: 'pw0', s1: 'pw1', own: 'pw-own')
        def arg = ImageArg.ofImageOpts('driver=qcow2,file.filename=t,encrypt.key-secret=s0,backing.encrypt.key-secret=s1', null, objs,
                new PrintWriter(new StringWriter()))
        SecretLookup lookup = arg.lookup()

        expect:
        new String(lookup.secretFor(new SecretLookup.Layer(Path.of('t'), 0, Optional.empty())).get().bytes()) == 'pw0'
        new String(lookup.secretFor(new SecretLookup.Layer(Path.of('b'), 1, Optional.empty())).get().bytes()) == 'pw1'
        new String(lookup.secretFor(new SecretLookup.Layer(Path.of('b'), 1, Optional.of('own'))).get().bytes()) == 'pw1'
        lookup.secretFor(new SecretLookup.Layer(Path.of('c'), 2, Optional.empty())).isEmpty()

        and: 'a depth the options do not name takes the id its json: name carries'
        new String(lookup.secretFor(new SecretLookup.Layer(Path.of('c'), 2, Optional.of('own'))).get().bytes()) == 'pw-own'
    }

    def "an id that names no --object is qemu's 'No secret with id' for the layer that needs it"() {
        given:
        def arg = ImageArg.ofImageOpts('driver=qcow2,file.filename=t,encrypt.key-secret=s0,backing.encrypt.key-secret=nope', null,
                objects(s0: 'pw0'), new PrintWriter(new StringWriter()))

        when:
        arg.lookup().secretFor(new SecretLookup.Layer(Path.of('b'), 1, Optional.empty()))

        then:
        def e = thrown(Errors.CliException)
        e.message == "Could not open 'driver=qcow2,file.filename=t,encrypt.key-secret=s0,backing.encrypt.key-secret=nope': " +
                "Could not open backing file: No secret with id 'nope'"
    }

    def "an encrypted image whose key-secret names no object fails as qemu-img does (#command)"() {
        given:
        String opts = "driver=qcow2,file.filename=$luks,encrypt.key-secret=sec1"
        List<String> args = [command, '--object', 'secret,id=sec0,data=abc', '--image-opts', opts] + extra
        def q = Qemu.img(args.collect { it.replace('OUT', dir.resolve('q.raw').toString()) }, false)
        def o = Cli.run(args.collect { it.replace('OUT', dir.resolve('o.raw').toString()) })

        expect:
        q.exit == 1
        o.exit == 1
        o.err == q.err.replaceFirst('^qemu-img: ', 'qcow2: ')
        o.err == "qcow2: Could not open '$opts': No secret with id 'sec1'\n"

        where:
        command   | extra
        'convert' | ['-O', 'raw', 'OUT']
        'map'     | []
    }

    def "options qemu-img refuses are refused with its message: #opts"() {
        given:
        String o = opts.replace('PLAIN', plain.toString()).replace('LUKS', luks.toString())
        def q = Qemu.img(['info', '--image-opts', o], false)
        def ours = Cli.run('info', '--image-opts', o)

        expect:
        q.exit == 1
        ours.exit == 1
        ours.err == q.err.replaceAll('(?m)^qemu-img: ', 'qcow2: ')

        where:
        opts << [
                'driver=qcow2,file.filename=PLAIN,bogus=1',
                'driver=qcow2,file.filename=PLAIN,file.bogus=1',
                'driver=qcow2,filename=PLAIN',
                'filename=PLAIN',
                'driver=qcow2',
                'driver=foo,file.filename=PLAIN',
                'driver=qcow2,file=PLAIN',
                'driver=qcow2,file.filename=LUKS,encrypt.format=aes,encrypt.key-secret=sec0',
                'driver=qcow2,file.filename=PLAIN,encrypt.format=luks',
                'driver=qcow2,file.filename=LUKS,encrypt.bogus=1',
                'driver=qcow2,file.filename=PLAIN,key-secret=sec0',
                'driver=qcow2,file.filename=PLAIN,foo',
                'driver=qcow2,,file.filename=PLAIN',
        ]
    }

    def "--image-opts and -f exclude each other, as in qemu-img"() {
        expect:
        Cli.run('info', '-f', 'qcow2', '--image-opts', "driver=qcow2,file.filename=$plain").err ==
                "qcow2: --image-opts and --format are mutually exclusive\n"
    }

    def "info names the image as qemu-img does: the file, or a json: name when a key-secret was given (#operand)"() {
        given:
        String op = operand.replace('LUKS', luks.toString())
        List<String> args = (imageOpts ? ['--image-opts'] : []) + [op]
        def q = Qemu.img(['info', '--output=json', '--object', 'secret,id=sec0,data=abc'] + args)
        def o = Cli.run(['info', '--output=json', '--object', 'secret,id=sec0,data=abc'] + args)

        expect:
        o.exit == 0
        o.json().filename == q.json().filename

        where:
        imageOpts | operand
        true      | 'driver=qcow2,file.filename=LUKS'
        true      | 'driver=qcow2,file.filename=LUKS,encrypt.key-secret=sec0'
        true      | 'file.filename=LUKS,encrypt.key-secret=sec0'
        false     | 'json:{"driver":"qcow2","file":{"driver":"file","filename":"LUKS"},"encrypt.key-secret":"sec0"}'
    }

    def "every command that opens an image takes --object and --image-opts (#command)"() {
        given:
        Path image = Qemu.create(dir.resolve("cmd-${command}.qcow2"), '1M')
        String opts = "driver=qcow2,file.filename=$image"

        when:
        def r = Cli.run([command, '--object', 'secret,id=sec0,data=pw', '--image-opts'] + before + [opts] + extra)

        then:
        r.exit == 0

        where:
        command    | before     | extra
        'info'     | []         | []
        'map'      | []         | []
        'check'    | []         | []
        'measure'  | []         | ['-O', 'qcow2']
        'snapshot' | []         | ['-l']
        'dump'     | ['header'] | []
        'bench'    | []         | ['-c', '1']
        'io'       | []         | ['-c', 'read 0 512']
        'resize'   | []         | ['1M']
        'amend'    | []         | ['-o', 'lazy_refcounts=on']
    }
}
