package dev.qcow2.cli

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * bench -w against qemu-img bench -w 7.2 on twin images: the same first lines, a result that
 * qemu-img check finds clean and that compares equal to qemu-img's, and option errors with
 * qemu-img's messages.
 */
class BenchWriteSpec extends Specification {
    @TempDir Path dir

    def "bench -w #args writes what qemu-img bench -w writes"() {
        given: 'twin images with data, a compressed cluster and a snapshot (shared clusters)'
        def ours = Qemu.create(dir.resolve('o.qcow2'), '16M', options)
        Qemu.io(ours, 'write -P 3 1M 3M', 'write -c -P 4 0 64k')
        Qemu.img('snapshot', '-c', 's1', ours.toString())
        def theirs = Files.copy(ours, dir.resolve('q.qcow2'))
        def argv = args.split(' ') as List

        when:
        def r = Cli.run(['bench', '-w'] + argv + [ours])
        def q = Qemu.img(['bench', '-w'] + argv + [theirs.toString()])

        then:
        r.exit == 0
        r.err == ''
        def lines = r.out.readLines()
        lines.init() == q.out.readLines().init()
        lines.last() ==~ /Run completed in \d+\.\d{3} seconds\./
        Qemu.img(['check', ours.toString()], false).exit == 0
        Qemu.img(['compare', theirs.toString(), ours.toString()], false).exit == 0
        Qemu.rawBytes(ours, 's1') == Qemu.rawBytes(theirs, 's1')

        where:
        options                              | args
        'cluster_size=65536'                 | '-c 200 -d 16 -s 64k --pattern=0x5a'
        'cluster_size=4096'                  | '-c 600 -d 64 -s 4k -S 32436224 --pattern=7'
        'cluster_size=65536'                 | '-c 50 -d 4 -s 3000 -S 5000 -o 777 --pattern=0x12 --flush-interval=8'
        'cluster_size=65536'                 | '-c 30 -d 2 -s 64k --flush-interval=2 --no-drain -t writethrough'
        'extended_l2=on,cluster_size=65536'  | '-c 100 -d 8 -s 6k -S 10000 --pattern=255'
        'compat=0.10,cluster_size=512'       | '-c 200 -s 1536 -S 12345 -t unsafe'
        'cluster_size=65536'                 | '-c 40 -s 1M -S 3M -o 12M'
        'cluster_size=65536'                 | '-c 0'
    }

    def "bench -w option errors are qemu-img's (#args)"() {
        given:
        def img = Qemu.create(dir.resolve('e.qcow2'), '16M')
        byte[] before = Files.readAllBytes(img)
        def argv = args.split(' ') as List

        when:
        def r = Cli.run(['bench'] + argv + [img])
        def q = Qemu.img(['bench'] + argv + [img.toString()], false)

        then:
        r.exit == 1
        q.exit == 1
        r.err.readLines().size() == 1
        // qemu-img splits the size hint over two lines; ours says the same in one
        r.err.readLines()[0] == 'qcow2: ' + q.err.readLines().collect { it.replaceFirst(/^qemu-img: /, '') }.join(' ')
        Files.readAllBytes(img) == before

        where:
        args << ['-w --flush-interval=10 -d 64', '--flush-interval=100', '-w --pattern=300', '-w --pattern=x',
                 '-w --flush-interval=x', '-w -S x', '-w -o x', '-w -s x', '-w -s 3G', '-w -c x', '-w -d x',
                 '-w -t bogus', '-w -i bogus', '-w -n', '-w -i native']
    }
}
