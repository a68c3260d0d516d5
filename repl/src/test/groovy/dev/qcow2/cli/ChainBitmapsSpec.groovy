package dev.qcow2.cli

import dev.qcow2.testing.Bitmaps
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * commit, rebase and snapshot on images with persistent bitmaps, against qemu-img on copies:
 * the same bitmaps and bits afterwards (writes into an image set its enabled bitmaps' bits;
 * emptying the top after a commit does not), and a clean check.
 */
class ChainBitmapsSpec extends Specification {
    @TempDir Path dir

    /** base (bitmaps b0 enabled, b1 disabled) <- top (bitmap t0), each a copy under {@code prefix}. */
    private Map<String, Path> chain(String prefix) {
        Path d = Files.createDirectories(dir.resolve(prefix))
        def base = Qemu.create(d.resolve('base.qcow2'), '8M', 'cluster_size=65536')
        Qemu.img('bitmap', '--add', base.toString(), 'b0')
        Qemu.img('bitmap', '--add', '--disable', base.toString(), 'b1')
        Qemu.io(base, 'write -P 1 0 1M')
        def top = d.resolve('top.qcow2')
        Qemu.img('create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', top.toString())
        Qemu.img('bitmap', '--add', top.toString(), 't0')
        Qemu.io(top, 'write -P 2 512k 1M', 'write -P 3 5M 64k')
        [base: base, top: top, other: Qemu.create(d.resolve('other.qcow2'), '8M', 'cluster_size=65536')]
    }

    def "#command on images with bitmaps leaves what qemu-img leaves"() {
        given:
        def ours = chain('ours')
        def theirs = chain('theirs')

        when:
        def run = Cli.run([command] + args + [ours.top.toString()])
        def ref = Qemu.run([Qemu.QEMU_IMG, command] + args + [theirs.top.toString()], ours.top.parent.toFile())

        then:
        run.exit == ref.exit
        ['base', 'top'].every { Bitmaps.info(ours[it]) == Bitmaps.info(theirs[it]) }
        ['base', 'top'].every { Bitmaps.bits(ours[it]) == Bitmaps.bits(theirs[it]) }
        ['base', 'top'].every { Bitmaps.check(ours[it]).exit == 0 }

        where:
        command    | args
        'commit'   | []
        'commit'   | ['-d']
        'rebase'   | ['-b', 'other.qcow2', '-F', 'qcow2']
        'rebase'   | ['-u', '-b', 'other.qcow2', '-F', 'qcow2']
        'snapshot' | ['-c', 's1']
    }
}
