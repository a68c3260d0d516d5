package dev.qcow2.cli

import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import javax.crypto.Cipher
import javax.crypto.spec.IvParameterSpec
import javax.crypto.spec.SecretKeySpec
import java.nio.file.Files
import java.nio.file.Path

/**
 * {@code --object secret,...} parsed as qemu-img 7.2 parses it: the same definitions are given
 * to qemu-img info and to ours, and the exit status and message must be the same (ours start
 * "qcow2: ", qemu's "qemu-img: "). The secret bytes each definition yields are checked directly.
 */
class ObjectOptionSpec extends Specification {
    @Shared @TempDir Path dir
    @Shared Path image
    @Shared Path pw
    @Shared Path pwNewline
    @Shared Path b64

    def setupSpec() {
        image = Qemu.create(dir.resolve('plain.qcow2'), '1M')
        pw = dir.resolve('pw.txt')
        Files.writeString(pw, 'hunter2')
        pwNewline = dir.resolve('pwnl.txt')
        Files.writeString(pwNewline, 'hunter2\n')
        b64 = dir.resolve('b64.txt')
        Files.writeString(b64, 'aHVudGVyMg==\n')
    }

    /** qemu-img info and ours with {@code objects} (each one --object); [exit, message without the tool's prefix]. */
    private List both(List<String> objects) {
        List<String> args = objects.collectMany { ['--object', it.replace('DIR', dir.toString())] } + [image.toString()]
        def q = Qemu.img(['info'] + args, false)
        def o = Cli.run(['info'] + args)
        [[q.exit, q.exit == 0 ? '' : q.err.replaceFirst('^qemu-img: ', '').trim()],
         [o.exit, o.exit == 0 ? '' : o.err.replaceFirst('^qcow2: ', '').trim()]]
    }

    def "a bad definition gets qemu-img's message and exit status: #objects"() {
        when:
        def (qemu, ours) = both(objects)

        then:
        ours == qemu
        ours[0] == 1

        where:
        objects << [
                ['secret,id=sec0'],
                ['secret,data=x'],
                ['secret'],
                [''],
                ['id=x,data=y'],
                ['foo,id=x'],
                ['Secret,id=sec0'],
                ['qom-type=bad,id=sec0'],
                ['secret,id=sec0,data=x,file=DIR/pw.txt'],
                ['secret,id=sec0,file=DIR/nope.txt'],
                ['secret,id=sec0,file=DIR'],
                ['secret,id=sec0,data=x,format=hex'],
                ['secret,id=sec0,data=x,format=RAW'],
                ['secret,id=sec0,data=x,format='],
                ['secret,id=sec0,data=!!!!,format=base64'],
                ['secret,id=sec0,data=x', 'secret,id=sec0,data=y'],
                ['secret,id=sec0,file=DIR/nope', 'secret,id=sec0,data=x'],
                ['secret,id=sec0,data=y', 'secret,id=sec0,file=DIR/nope'],
                ['secret,id=sec0,data=x,bogus=1'],
                ['secret,id=0bad,bogus=1'],
                ['secret,bogus=1'],
                ['secret,id=ok,data.x=1'],
                ['secret,id=ok,data=1,data.x=1'],
                ['secret,id=ok,format=hex,bogus=1'],
                ['secret,id=sec0,data=x,a.b=1'],
                ['secret,,x'],
                ['secret,id=sec0,data=x,loaded=on'],
                ['secret,id=sec0,data=x,qom-type=foo'],
                ['secret,id=sec0,data=x,keyid=k,iv=x'],
                ['secret,id=sec0,data=x,keyid=sec0,iv=x'],
                ['secret,id=mk,data=x', 'secret,id=sec0,data=x,keyid=mk,iv=x'],
                ['secret,id=mk,data=' + 'k' * 32, 'secret,id=sec0,data=x,keyid=mk'],
                ['secret,id=mk,data=' + 'k' * 32, 'secret,id=sec0,data=x,keyid=mk,iv=AAAA'],
                ['secret,id=mk,data=' + 'k' * 32, 'secret,id=sec0,data=x,keyid=mk,iv=@@'],
                ['secret,id=mk,data=' + 'k' * 32, 'secret,id=sec0,data=abcde,keyid=mk,iv=AAAAAAAAAAAAAAAAAAAAAA=='],
                ['{"qom-type":"secret","id":"sec0"}'],
                ['{"qom-type":"secret","id":"sec0","data":"x","x":1}'],
                ['{"qom-type":"secret"'],
        ]
    }

    def "a good definition is accepted as qemu-img accepts it: #objects"() {
        when:
        def (qemu, ours) = both(objects)

        then:
        qemu == [0, '']
        ours == [0, '']

        where:
        objects << [
                ['secret,id=sec0,data=hunter2'],
                ['secret,id=sec0,data=hunter2,'],
                ['secret,id=sec0,data=a,,b'],
                ['id=x,qom-type=secret,data=y'],
                ['secret,id=x,data=y,id=sec0'],
                ['secret,id=a-b_c.d,data=y'],
                ['secret,id=sec0,file=DIR/pw.txt,format=raw'],
                ['secret,id=sec0,data=x,format=base64'],
                ['secret,id=sec0,data=hunter2,iv=abc'],
                ['{"qom-type":"secret","id":"sec0","data":"hunter2"}'],
                ['secret,id=s1,data=a', 'secret,id=s2,data=b'],
        ]
    }

    def "an element qemu-img would quote after data= is not quoted: it may be part of the passphrase"() {
        when:
        def r = Cli.run('info', '--object', 'secret,id=sec0,data=hunt,er2', image)

        then:
        r.exit == 1
        r.err == "qcow2: Invalid --object definition (a comma inside a value must be written ,,)\n"
        !r.err.contains('er2')
    }

    def "the id rule is one line: qemu's message and its hint joined"() {
        expect:
        Cli.run('info', '--object', 'secret,id=0bad,data=x', image).err ==
                "qcow2: Parameter 'id' expects an identifier; identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n"
    }

    def "object types qemu-img knows but this tool has no use for are refused by name"() {
        expect:
        Cli.run('info', '--object', 'throttle-group,id=t', image).err ==
                "qcow2: Object type 'throttle-group' is not supported by qcow2 (only 'secret' objects are)\n"
    }

    def "--object help lists the types and secret,help the secret's options, exit 0 even without an operand (#arg)"() {
        when:
        def r = Cli.run(command, '--object', arg)

        then:
        r.exit == 0
        r.err == ''
        r.out == expected

        where:
        command   | arg                  | expected
        'info'    | 'help'               | 'List of user creatable objects:\n  secret\n'
        'convert' | '?'                  | 'List of user creatable objects:\n  secret\n'
        'check'   | 'foo,help'           | 'List of user creatable objects:\n  secret\n'
        'info'    | 'secret,help'        | Qemu.img('info', '--object', 'secret,help').out
        'create'  | 'secret,id=s,help'   | Qemu.img('info', '--object', 'secret,help').out
    }

    def "the secret's bytes: data, file (newline kept), base64 (data and file), keyid/iv decryption"() {
        given:
        byte[] key = (0..31).collect { (byte) (it * 7) } as byte[]
        byte[] iv = (0..15).collect { (byte) (100 + it) } as byte[]
        def aes = Cipher.getInstance('AES/CBC/PKCS5Padding')
        aes.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, 'AES'), new IvParameterSpec(iv))
        String ct = aes.doFinal('hunter2'.bytes).encodeBase64().toString()

        when:
        def objects = SecretObjectParser.parse([
                'secret,id=a,data=hunter2',
                "secret,id=b,file=$pw".toString(),
                "secret,id=c,file=$pwNewline".toString(),
                'secret,id=d,data=aHVudGVyMg==,format=base64',
                "secret,id=e,file=$b64,format=base64".toString(),
                "secret,id=mk,data=${key.encodeBase64()},format=base64".toString(),
                "secret,id=f,data=$ct,format=base64,keyid=mk,iv=${iv.encodeBase64()}".toString(),
                'secret,id=g,data=x,format=base64',
                'secret,id=h,data=a,,b',
        ])

        then:
        new String(objects.byId('a').get().bytes()) == 'hunter2'
        new String(objects.byId('b').get().bytes()) == 'hunter2'
        new String(objects.byId('c').get().bytes()) == 'hunter2\n'
        new String(objects.byId('d').get().bytes()) == 'hunter2'
        new String(objects.byId('e').get().bytes()) == 'hunter2'
        new String(objects.byId('f').get().bytes()) == 'hunter2'
        objects.byId('g').get().bytes().length == 0          // glib drops an incomplete group
        new String(objects.byId('h').get().bytes()) == 'a,b'
        objects.toString() == 'SecretObjects[a, b, c, d, e, mk, f, g, h]'

        cleanup:
        objects?.close()
    }

    def "a wrong key for keyid fails qemu's padding check, without quoting anything secret"() {
        given:
        String key = 'k' * 32
        String ct = ('A' * 22) + '=='      // 16 zero bytes

        when:
        SecretObjectParser.parse(["secret,id=mk,data=$key".toString(),
                                  "secret,id=s,data=$ct,format=base64,keyid=mk,iv=AAAAAAAAAAAAAAAAAAAAAA==".toString()])

        then:
        def e = thrown(Errors.CliException)
        e.message ==~ /Incorrect number of padding bytes \(\d+\) found on decrypted data/
    }
}
