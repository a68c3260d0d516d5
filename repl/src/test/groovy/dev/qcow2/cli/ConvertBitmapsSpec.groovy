package dev.qcow2.cli

import dev.qcow2.testing.Bitmaps
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** {@code qcow2 convert --bitmaps} against {@code qemu-img convert --bitmaps}: same bitmaps, bits, refusals. */
class ConvertBitmapsSpec extends Specification {
    @TempDir Path dir

    private Path source(boolean inUse) {
        def img = Qemu.create(dir.resolve('src.qcow2'), '8M', 'cluster_size=65536')
        Qemu.img('bitmap', '--add', '-g', '4k', img.toString(), 'b0')
        Qemu.img('bitmap', '--add', '--disable', '-g', '1M', img.toString(), 'b1')
        Qemu.img('bitmap', '--add', '-g', '512', img.toString(), 'b2')
        Qemu.io(img, 'write 1000 70000', 'discard 5M 1M')
        Qemu.img('bitmap', '--enable', img.toString(), 'b1')
        Qemu.io(img, 'write 7M 4k')
        if (inUse) Bitmaps.setInUse(img, 'b2')
        img
    }

    def "convert #args copies the bitmaps as qemu-img does (target options #options)"() {
        given:
        def src = source(inUse)
        def ours = dir.resolve('ours.qcow2')
        def theirs = dir.resolve('theirs.qcow2')
        def opts = options ? ['-o', options] : []

        when:
        def run = Cli.run(['convert', '-O', 'qcow2'] + opts + args + [src.toString(), ours.toString()])
        def ref = Qemu.run([Qemu.QEMU_IMG, 'convert', '-O', 'qcow2'] + opts + args + [src.toString(), theirs.toString()])

        then:
        run.exit == ref.exit
        run.err.replace('qcow2: ', '').readLines() == ref.err.replace('qemu-img: ', '').readLines()
        Files.exists(ours) == Files.exists(theirs)
        !Files.exists(ours) || Bitmaps.info(ours) == Bitmaps.info(theirs)
        !Files.exists(ours) || Bitmaps.bits(ours) == Bitmaps.bits(theirs)
        !Files.exists(ours) || Bitmaps.check(ours).exit == 0

        where:
        args                                      | options              | inUse
        ['--bitmaps']                             | null                 | false
        ['--bitmaps']                             | 'cluster_size=4096'  | false
        ['--bitmaps', '--skip-broken-bitmaps']    | null                 | true
        []                                        | null                 | false
    }

    def "refusals: #args"() {
        given:
        def src = source(inUse)

        when:
        def run = Cli.run(['convert'] + args + [src.toString(), dir.resolve('out').toString()])

        then:
        run.exit == 1
        run.err.readLines() == ['qcow2: ' + message]
        !Files.exists(dir.resolve('out'))

        where:
        args                                             | inUse | message
        ['-O', 'qcow2', '--skip-broken-bitmaps']         | false | 'Use of --skip-broken-bitmaps requires --bitmaps'
        ['-O', 'raw', '--bitmaps']                       | false | "Format driver 'raw' does not support bitmaps"
        ['-O', 'qcow2', '-o', 'compat=0.10', '--bitmaps'] | false | "Format driver 'qcow2' does not support bitmaps"
        ['-O', 'qcow2', '--bitmaps']                     | true  | "Cannot copy inconsistent bitmap 'b2'; try --skip-broken-bitmaps, or use 'qcow2 bitmap --remove' to delete it"
    }
}
