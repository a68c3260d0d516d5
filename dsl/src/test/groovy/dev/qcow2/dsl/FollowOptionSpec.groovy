package dev.qcow2.dsl

import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * {@code open 'x', follow: …}: the open gate in the DSL (and so in the REPL and the notebook
 * kernel, which run the DSL). A backing file or data file named inside the image is opened only
 * when it lies in the image's directory tree, or under a directory {@code follow:} names;
 * {@code 'any'} opens everything (as qemu-img), {@code 'none'} nothing.
 */
class FollowOptionSpec extends Specification {
    @TempDir Path tmp
    Path ev
    Path outside
    Path top
    Path base

    def setup() {
        Path root = tmp.toRealPath()
        ev = Files.createDirectories(root.resolve('ev'))
        outside = Files.createDirectories(root.resolve('outside'))
        base = Qemu.create(outside.resolve('base.qcow2'), '1M')
        Qemu.io(base, 'write -P 0x11 0 64k')
        top = Qemu.create(ev.resolve('top.qcow2'), '1M', null, ['-b', base.toString(), '-F', 'qcow2'])
        Qemu.io(top, 'write -P 0x33 0 4k')
    }

    private Map<String, String> hashes() { [top: Sha256.of(top), base: Sha256.of(base)] }

    def "a plain open refuses a backing file outside the image's directory with one line and how to allow it"() {
        given:
        def shell = new DslShell()
        def before = hashes()

        when:
        shell.evaluate("open '$top'")

        then:
        def e = thrown(DslException)
        e.message == "$top: backing file $base is outside $ev (not opened); allow it with open(…, follow: '$outside')"
        !shell.session.open
        hashes() == before

        cleanup:
        shell?.close()
    }

    def "follow: #follow opens the chain and reads what qemu-img reads (#how)"() {
        given:
        def shell = new DslShell()
        def before = hashes()
        byte[] ref = Qemu.rawBytes(top)   // before our writer holds the image's lock

        when:
        shell.evaluate("open '$top', follow: ${follow.replace('OUT', outside.toString())}${writable ? ', writable: true' : ''}")
        def img = shell.session.image()
        byte[] guest = new byte[(int) img.size()]
        img.read(0L, guest, 0, guest.length)

        then:
        guest == ref
        img.backingLink().get().device() != null
        hashes() == before || writable

        cleanup:
        shell?.close()

        where:
        follow            | writable | how
        "'OUT'"           | false    | 'a directory'
        "['/nowhere', 'OUT']" | false | 'a list of directories'
        "'any'"           | false    | 'everything, as qemu-img'
        "'OUT'"           | true     | 'writable: the writer opens the backing file under the same rule'
    }

    def "follow: 'none' reads the image alone: the backing file is not opened"() {
        given:
        def shell = new DslShell()

        when:
        shell.evaluate("open '$top', follow: 'none'")

        then:
        shell.session.image().backingLink().get().device() == null
        shell.session.image().read(0L, 4) == [0x33, 0x33, 0x33, 0x33] as byte[]

        cleanup:
        shell?.close()
    }

    def "the chain's names are checked again when a command opens the image anew (check, refcounts)"() {
        given:
        def shell = new DslShell()
        shell.evaluate("open '$top', follow: '$outside'")

        when:
        def r = shell.evaluate('check')

        then:
        r != null
        notThrown(DslException)
    }

    def "follow: #bad is a one-line usage error"() {
        given:
        def shell = new DslShell()

        when:
        shell.evaluate("open '$top', follow: $bad")

        then:
        def e = thrown(DslException)
        e.message.startsWith('open: follow: ')

        cleanup:
        shell?.close()

        where:
        bad << ["['none', '/x']", "''"]
    }

    def "a front end's default (qcow2 repl --allow-backing) applies to opens without follow:"() {
        given:
        def shell = new DslShell()
        shell.session.defaultFollow = dev.qcow2.image.FollowPolicy.allowing([outside])

        when:
        shell.evaluate("open '$top'")

        then:
        shell.session.image().backingLink().get().device() != null

        cleanup:
        shell?.close()
    }
}
