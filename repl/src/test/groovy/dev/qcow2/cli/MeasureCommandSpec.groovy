package dev.qcow2.cli

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/** {@code qcow2 measure}: qemu-img measure's output, human and JSON, and its messages. */
class MeasureCommandSpec extends Specification {
    @TempDir Path dir

    def "measure #args prints what qemu-img measure prints"() {
        given:
        def img = Images.build(dir, 'plain')
        Qemu.img(['bitmap', '--add', img.toString(), 'b0'])
        def argv = args.collect { it == 'IMG' ? img.toString() : it }
        def before = Sha256.of(img)

        when:
        def ours = Cli.run(['measure'] + argv)
        def qemu = Qemu.img(['measure'] + argv)

        then:
        ours.exit == 0
        ours.out == qemu.out
        Sha256.of(img) == before

        where:
        args << [
                ['--size', '16M'],
                ['--size', '16M', '-O', 'qcow2'],
                ['--output=json', '--size', '1G', '-O', 'qcow2', '-o', 'cluster_size=4k,refcount_bits=64'],
                ['--output=json', '--size', '1000', '-O', 'qcow2', '-o', 'preallocation=full'],
                ['-O', 'qcow2', 'IMG'],
                ['--output=json', '-O', 'qcow2', 'IMG'],
                ['--output=json', '-O', 'qcow2', '-o', 'compat=0.10', 'IMG'],
                ['--output=json', 'IMG'],
                ['--output=json', '-O', 'qcow2', '-f', 'qcow2', 'IMG'],
        ]
    }

    def "measure of a snapshot"() {
        given:
        def img = Images.build(dir, 'snapshots')

        expect:
        Cli.run('measure', '--output=json', '-O', 'qcow2', '-l', 'one', img).out ==
                Qemu.img(['measure', '--output=json', '-O', 'qcow2', '-l', 'one', img.toString()]).out
    }

    def "measure #args fails with qemu-img's message"() {
        when:
        def ours = Cli.run(['measure'] + args)
        def qemu = Qemu.img(['measure'] + args, false)

        then:
        ours.exit == 1
        qemu.exit == 1
        ours.err.trim() == qemu.err.readLines()[0].replace('qemu-img: ', 'qcow2: ')

        where:
        args << [
                ['-O', 'qcow2'],
                ['-O', 'qcow2', '-o', 'refcount_bits=3', '--size', '1M'],
                ['-O', 'qcow2', '-o', 'cluster_size=8k,extended_l2=on', '--size', '1M'],
                ['-O', 'qcow2', '-o', 'compat=2', '--size', '1M'],
                ['-O', 'qcow2', '-o', 'cluster_size=512', '--size', '2T'],
                ['-O', 'qcow2', '-l', 'x', '--size', '1M'],
                ['-O', 'vmdk', '--size', '1M'],
        ]
    }
}
