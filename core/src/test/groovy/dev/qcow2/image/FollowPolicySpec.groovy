package dev.qcow2.image

import dev.qcow2.ErrorLine
import dev.qcow2.testing.Qemu
import dev.qcow2.write.Qcow2Writer
import dev.qcow2.write.WriteOptions
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * The open gate ({@link FollowPolicy}): a name read from an image is followed when its file lies
 * in the top image's directory tree (after path_combine, normalisation and symlink resolution) or
 * under an allowed directory; every layer of a chain is checked against the top's directory.
 * Images made by qemu-img, which follows everything: an opened chain reads what qemu-img reads.
 */
class FollowPolicySpec extends Specification {
    @Shared @TempDir Path tmp
    @Shared Path root
    @Shared Path ev
    @Shared Path outside

    def setupSpec() {
        root = tmp.toRealPath()
        ev = Files.createDirectories(root.resolve('ev'))
        outside = Files.createDirectories(root.resolve('outside'))
        Files.createDirectories(ev.resolve('sub'))
        Files.createDirectories(root.resolve('elsewhere'))
        for (Path base : [ev.resolve('base.qcow2'), outside.resolve('base.qcow2')]) {
            Qemu.create(base, '1M')
            Qemu.io(base, 'write -P 0x5a 0 64k', 'write -P 0x33 512k 4k')
        }
        def overlay = { String name, String backing ->
            Qemu.create(ev.resolve(name), '1M', null, ['-b', backing, '-F', 'qcow2'])
        }
        overlay('inside.qcow2', 'base.qcow2')
        overlay('dotdot.qcow2', '../outside/base.qcow2')
        overlay('absolute.qcow2', outside.resolve('base.qcow2').toString())
        Files.createSymbolicLink(ev.resolve('link-out.qcow2'), outside.resolve('base.qcow2'))
        overlay('symlink-out.qcow2', 'link-out.qcow2')
        Files.createSymbolicLink(root.resolve('elsewhere/link-in.qcow2'), ev.resolve('base.qcow2'))
        overlay('symlink-in.qcow2', root.resolve('elsewhere/link-in.qcow2').toString())
        overlay('json.qcow2', 'json:{"driver":"qcow2","file.filename":"' + outside.resolve('base.qcow2') + '"}')
        Qemu.create(ev.resolve('missing.qcow2'), '1M', null, ['-u', '-b', root.resolve('nowhere/gone.qcow2').toString(), '-F', 'qcow2'])
        // chains of three: the middle layer (ev/sub) names the bottom relative to itself
        Qemu.create(ev.resolve('sub/mid-out.qcow2'), '1M', null, ['-b', '../../outside/base.qcow2', '-F', 'qcow2'])
        Qemu.create(ev.resolve('sub/mid-in.qcow2'), '1M', null, ['-b', '../base.qcow2', '-F', 'qcow2'])
        overlay('chain-out.qcow2', 'sub/mid-out.qcow2')
        overlay('chain-in.qcow2', 'sub/mid-in.qcow2')
        Qemu.io(ev.resolve('chain-out.qcow2'), 'write -P 0x77 128k 4k')
        // an external data file outside the tree
        Qemu.create(ev.resolve('datafile.qcow2'), '1M', "data_file=${outside.resolve('data.raw')}")
        Qemu.io(ev.resolve('datafile.qcow2'), 'write -P 0x44 0 8k')
    }

    private static byte[] guest(BlockDevice d) {
        byte[] b = new byte[(int) d.size()]
        d.read(0, b, 0, b.length)
        b
    }

    def "#name is followed by default (inside the top image's tree) and reads as qemu-img reads it"() {
        when:
        def img = Qcow2Image.open(ev.resolve(name), OpenOptions.permissive())

        then:
        img.backingLink().get().device() != null
        guest(img) == Qemu.rawBytes(ev.resolve(name))

        cleanup:
        img?.close()

        where:
        name                | _
        'inside.qcow2'      | _
        'symlink-in.qcow2'  | _   // names a link outside that leads back inside: the real path counts
        'chain-in.qcow2'    | _   // sub/mid-in names ../base.qcow2: outside sub, inside the top's tree
    }

    def "#name: the #role #shown is refused by default, nothing of it opened, one line naming #namedBy"() {
        when:
        Qcow2Image.open(ev.resolve(name), OpenOptions.permissive())

        then:
        FollowRefusedException e = thrown()
        e.message == "${ev.resolve(namedBy)}: $role ${shown.replace('$OUT', outside.toString()).replace('$EV', ev.toString()).replace('$ROOT', root.toString())} is outside $ev (not opened)"
        e.allowDirectory() == expectedDir(dir)
        ErrorLine.of(e, new ErrorLine.Hints(null, null, '; allow it with --allow-backing=%s')) ==
                e.message + "; allow it with --allow-backing=${expectedDir(dir)}"

        where:
        name                | namedBy                 | role           | shown                                              | dir
        'dotdot.qcow2'      | 'dotdot.qcow2'          | 'backing file' | '$EV/../outside/base.qcow2 (-> $OUT/base.qcow2)'  | 'outside'
        'absolute.qcow2'    | 'absolute.qcow2'        | 'backing file' | '$OUT/base.qcow2'                                  | 'outside'
        'symlink-out.qcow2' | 'symlink-out.qcow2'     | 'backing file' | '$EV/link-out.qcow2 (-> $OUT/base.qcow2)'          | 'outside'
        'json.qcow2'        | 'json.qcow2'            | 'backing file' | '$OUT/base.qcow2'                                  | 'outside'
        'chain-out.qcow2'   | 'sub/mid-out.qcow2'     | 'backing file' | '$EV/sub/../../outside/base.qcow2 (-> $OUT/base.qcow2)' | 'outside'
        'datafile.qcow2'    | 'datafile.qcow2'        | 'data file'    | '$OUT/data.raw'                                    | 'outside'
        // refused before it is opened: a missing file outside is not "No such file", it is not looked at
        'missing.qcow2'     | 'missing.qcow2'         | 'backing file' | '$ROOT/nowhere/gone.qcow2'                         | 'nowhere'
    }

    private Path expectedDir(String dir) { root.resolve(dir) }

    def "the rule is the top image's directory: sub/mid-in opened as the top may not reach ../base.qcow2"() {
        when:
        Qcow2Image.open(ev.resolve('sub/mid-in.qcow2'), OpenOptions.permissive())

        then:
        FollowRefusedException e = thrown()
        e.message.endsWith("is outside ${ev.resolve('sub').toRealPath()} (not opened)")
    }

    def "#name opens with #policy and reads as qemu-img reads it"() {
        given:
        def follow = policy == 'any' ? FollowPolicy.any() : FollowPolicy.allowing([root.resolve(policy)])

        when:
        def img = Qcow2Image.open(ev.resolve(name), OpenOptions.permissive().withFollow(follow))

        then:
        guest(img) == Qemu.rawBytes(ev.resolve(name))

        cleanup:
        img?.close()

        where:
        name                | policy
        'dotdot.qcow2'      | 'outside'
        'absolute.qcow2'    | 'outside'
        'symlink-out.qcow2' | 'outside'
        'json.qcow2'        | 'outside'
        'chain-out.qcow2'   | 'outside'
        'datafile.qcow2'    | 'outside'
        'dotdot.qcow2'      | 'any'
        'chain-out.qcow2'   | 'any'
        'datafile.qcow2'    | 'any'
        'json.qcow2'        | 'any'
    }

    def "an allowed directory that is not where the name leads still refuses it"() {
        when:
        Qcow2Image.open(ev.resolve('absolute.qcow2'), OpenOptions.permissive().withFollow(FollowPolicy.allowing([root.resolve('elsewhere')])))

        then:
        FollowRefusedException e = thrown()
        e.message.endsWith("is outside ${ev.toRealPath()}, ${root.resolve('elsewhere').toRealPath()} (not opened)")
    }

    def "follow none reads the image alone: no backing device, no data file"() {
        when:
        def img = Qcow2Image.open(ev.resolve('absolute.qcow2'), OpenOptions.permissive().withFollow(FollowPolicy.none()))

        then:
        img.backingLink().get().device() == null
        img.backingLink().get().name() == outside.resolve('base.qcow2').toString()

        cleanup:
        img?.close()
    }

    def "the writer gates its backing file the same way: refused, and nothing written"() {
        given:
        def top = ev.resolve('absolute.qcow2')
        def before = Files.readAllBytes(top)

        when:
        Qcow2Writer.open(top, WriteOptions.defaults())

        then:
        FollowRefusedException e = thrown()
        e.message == "$top: backing file ${outside.resolve('base.qcow2')} is outside ${ev.toRealPath()} (not opened)"
        Files.readAllBytes(top) == before

        when:
        def w = Qcow2Writer.open(top, WriteOptions.defaults().withFollow(FollowPolicy.allowing([outside])))
        w.close()

        then:
        notThrown(Exception)
    }

    def "the words of the front ends: #words"() {
        expect:
        FollowPolicy.parse(words).describe() == shown

        where:
        words              | shown
        []                 | "the image's directory"
        ['any']            | 'any'
        ['/x', 'any']      | 'any'
        ['none']           | 'none'
        ['/nonexistent/d'] | "the image's directory, /nonexistent/d"
    }

    def "follow none with a directory is a usage error"() {
        when:
        FollowPolicy.parse(['none', '/x'])

        then:
        thrown(IllegalArgumentException)
    }

    def "a refusal wrapped by a caller is still said as it is, with the front end's hint"() {
        given:
        FollowRefusedException refused = null
        try {
            Qcow2Image.open(ev.resolve('absolute.qcow2'), OpenOptions.permissive())
        } catch (FollowRefusedException e) {
            refused = e
        }
        def wrapped = new dev.qcow2.Qcow2Exception('caller', 'Could not open backing file: ' + refused.message, refused)

        expect:
        ErrorLine.of(wrapped, new ErrorLine.Hints(null, null, "; allow it with follow: '%s'")) ==
                refused.message + "; allow it with follow: '$outside'"
        ErrorLine.of(wrapped) == refused.message
    }
}
