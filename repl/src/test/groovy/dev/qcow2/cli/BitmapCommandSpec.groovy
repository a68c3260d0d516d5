package dev.qcow2.cli

import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Bitmaps
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * {@code qcow2 bitmap} against {@code qemu-img bitmap} on copies of one image (enabled, disabled
 * and in-use bitmaps with set bits): same exit status, same output and error text, and
 * afterwards the same qemu-img info bitmap fields, the same bits and the same check verdict.
 */
class BitmapCommandSpec extends Specification {
    @TempDir Path dir

    private Path image(String name) {
        def img = Qemu.create(dir.resolve(name), '8M', 'cluster_size=65536')
        Qemu.img('bitmap', '--add', '-g', '512', img.toString(), 'b0')
        Qemu.img('bitmap', '--add', '--disable', img.toString(), 'b1')
        Qemu.img('bitmap', '--add', '-g', '1M', img.toString(), 'bad')
        Qemu.io(img, 'write 100 70000', 'discard 3M 64k')
        Bitmaps.setInUse(img, 'bad')
        img
    }

    def "qcow2 bitmap #args behaves as qemu-img bitmap"() {
        given:
        def ours = image('ours.qcow2')
        def theirs = dir.resolve('theirs.qcow2')
        Files.copy(ours, theirs)
        def source = Qemu.create(dir.resolve('src.qcow2'), '8M', 'cluster_size=4096')
        Qemu.img('bitmap', '--add', '-g', '4096', source.toString(), 'sb')
        Qemu.io(source, 'write 5M 10000')

        when:
        def run = Cli.run(['bitmap'] + args.collect { it == 'FILE' ? ours.toString() : it == 'SRC' ? source.toString() : it })
        def ref = Qemu.run([Qemu.QEMU_IMG, 'bitmap'] + args.collect { it == 'FILE' ? theirs.toString() : it == 'SRC' ? source.toString() : it })

        then:
        run.exit == ref.exit
        run.out == ref.out
        // qemu-img splits some messages over two lines and adds a QMP hint; ours is one line
        ResizeCommandSpec.ourLines(run.err, ours).join(' ') == ResizeCommandSpec.qemuLines(ref.err).findAll { !it.startsWith('Try block-dirty-bitmap-remove') }.join(' ')
        Bitmaps.info(ours) == Bitmaps.info(theirs)
        Bitmaps.bits(ours) == Bitmaps.bits(theirs)
        Bitmaps.check(ours) == Bitmaps.check(theirs)

        where:
        args << [
                ['--add', 'FILE', 'n'],
                ['--add', '-g', '4k', 'FILE', 'n'],
                ['--add', '--disable', 'FILE', 'n'],
                ['FILE', 'n', '--add', '-g', '2M'],
                ['--add', '-g', '0', 'FILE', 'n'],
                ['--add', '-g', '1000', 'FILE', 'n'],
                ['--add', '-g', '4G', 'FILE', 'n'],
                ['--add', '-g', 'abc', 'FILE', 'n'],
                ['--add', 'FILE', 'b0'],
                ['--remove', 'FILE', 'b0'],
                ['--remove', 'FILE', 'bad'],
                ['--remove', 'FILE', 'nope'],
                ['--clear', 'FILE', 'b0'],
                ['--clear', 'FILE', 'bad'],
                ['--enable', 'FILE', 'b1'],
                ['--disable', 'FILE', 'b0'],
                ['--merge', 'b0', 'FILE', 'b1'],
                ['--merge', 'bad', 'FILE', 'b1'],
                ['--merge', 'nope', 'FILE', 'b1'],
                ['--add', '--merge', 'b0', 'FILE', 'n'],
                ['--add', '--merge', 'nope', '--clear', 'FILE', 'n'],
                ['--merge', 'sb', '-b', 'SRC', 'FILE', 'b0'],
                ['--add', '-g', '64k', '--merge', 'sb', '-b', 'SRC', '-F', 'qcow2', 'FILE', 'n'],
                ['--add', '--remove', '--add', 'FILE', 'n'],
                ['FILE', 'b0'],
                ['--remove', '-g', '4k', 'FILE', 'b0'],
                ['-F', 'qcow2', '--merge', 'b0', 'FILE', 'b1'],
                ['-b', 'SRC', '--add', 'FILE', 'n'],
                ['--add', 'FILE'],
                ['--add', 'FILE', 'x', 'y'],
                ['--clear', '--add', 'FILE', 'n'],
                ['--add', '--disable', '--enable', '--disable', 'FILE', 'n'],
                ['--merge=b0', 'FILE', 'b1'],
        ]
    }

    def "a missing file is refused with one line"() {
        when:
        def run = Cli.run(['bitmap', '--add', dir.resolve('none.qcow2').toString(), 'b'])

        then:
        run.exit == 1
        run.err.readLines().size() == 1
        run.err.contains('none.qcow2')
    }
}
