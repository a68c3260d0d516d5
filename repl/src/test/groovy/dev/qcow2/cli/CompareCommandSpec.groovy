package dev.qcow2.cli

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

class CompareCommandSpec extends Specification {
    @TempDir Path dir

    def "compare agrees with qemu-img compare: #what"() {
        given:
        def a = Qemu.create(dir.resolve('a.qcow2'), sizeA)
        def b = Qemu.create(dir.resolve('b.qcow2'), sizeB)
        if (ioA) Qemu.io(a, ioA)
        if (ioB) Qemu.io(b, ioB)
        def shaA = Sha256.of(a)

        when:
        def ours = Cli.run(['compare'] + opts + [a, b])
        def ref = Qemu.img(['compare'] + opts + [a.toString(), b.toString()], false)

        then:
        ours.exit == ref.exit
        ours.out == ref.out
        Sha256.of(a) == shaA

        where:
        what                     | sizeA | sizeB | ioA                  | ioB                       | opts
        'identical'              | '4M'  | '4M'  | 'write -P 1 0 64k'   | 'write -P 1 0 64k'        | []
        'differ in one sector'   | '4M'  | '4M'  | 'write -P 1 0 64k'   | 'write -P 2 1536 512'     | []
        'data vs unallocated'    | '4M'  | '4M'  | 'write -P 1 1M 4k'   | null                      | []
        'zero data vs nothing'   | '4M'  | '4M'  | 'write -P 0 1M 4k'   | null                      | []
        'size mismatch, same'    | '4M'  | '6M'  | 'write -P 1 0 4k'    | 'write -P 1 0 4k'         | []
        'size mismatch, tail'    | '4M'  | '6M'  | null                 | 'write -P 1 5M 4k'        | []
        'strict size mismatch'   | '4M'  | '6M'  | null                 | null                      | ['-s']
        'quiet differ'           | '4M'  | '4M'  | 'write -P 1 0 4k'    | null                      | ['-q']
    }

    def "a mismatch inside a cluster is reported at its sector"() {
        given:
        def a = Qemu.create(dir.resolve('a.qcow2'), '4M')
        def b = Qemu.create(dir.resolve('b.qcow2'), '4M')
        Qemu.io(a, 'write -P 1 0 64k')
        Qemu.io(b, 'write -P 1 0 64k', 'write -P 2 3000 1')

        expect:
        Cli.run('compare', a, b).out == Qemu.img(['compare', a.toString(), b.toString()], false).out
        Cli.run('compare', a, b).out == 'Content mismatch at offset 2560!\n'
    }

    def "qcow2 against raw, probed by magic"() {
        given:
        def img = Images.build(dir, 'compressed')
        def raw = dir.resolve('copy.raw')
        Qemu.img('convert', '-O', 'raw', img.toString(), raw.toString())

        expect:
        Cli.run('compare', img, raw).out == 'Images are identical.\n'
        Cli.run('compare', '-f', 'qcow2', '-F', 'raw', img, raw).exit == 0
    }

    def "an image that cannot be opened gives exit 2"() {
        expect:
        Cli.run('compare', dir.resolve('none.qcow2'), dir.resolve('none2.qcow2')).exit == 2
    }
}
