package dev.qcow2.cli

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** {@code qcow2 create}: qemu-img create's "Formatting" line, messages, exit codes and image bytes. */
class CreateCommandSpec extends Specification {
    @TempDir Path dir

    Path q, o

    def setup() {
        q = Files.createDirectories(dir.resolve('q'))
        o = Files.createDirectories(dir.resolve('o'))
        [q, o].each { Qemu.img(['create', '-q', '-f', 'qcow2', it.resolve('base.qcow2').toString(), '3M']) }
    }

    /**
     * Runs qemu-img create and qcow2 create with the same arguments, FILE in each one's
     * directory; qemu-img runs in its directory, where it makes a relative data_file.
     */
    List<Object> both(List<String> args, String size) {
        def qemu = Qemu.run([Qemu.QEMU_IMG, 'create', '-f', 'qcow2'] + args + [q.resolve('img.qcow2').toString()] + (size ? [size] : []), q.toFile())
        def ours = Cli.run(['create', '-f', 'qcow2'] + args + [o.resolve('img.qcow2').toString()] + (size ? [size] : []))
        [qemu, ours]
    }

    def "create #args #size prints qemu-img's Formatting line and makes the same image"() {
        when:
        def (qemu, ours) = both(args, size)

        then:
        qemu.exit == 0
        ours.exit == 0
        ours.out.replace(o.toString(), 'DIR') == qemu.out.replace(q.toString(), 'DIR')
        ours.err == ''
        Files.readAllBytes(o.resolve('img.qcow2')) == Files.readAllBytes(q.resolve('img.qcow2'))

        where:
        args                                                                           | size
        []                                                                             | '16M'
        ['-o', 'cluster_size=4k,compat=0.10']                                          | '1.5M'
        ['-o', 'refcount_bits=8,lazy_refcounts=on', '-o', 'compression_type=zstd']    | '2G'
        ['-o', 'extended_l2=on,preallocation=metadata']                                | '8M'
        ['-o', 'preallocation=full,cluster_size=16k']                                  | '1M'
        ['-b', 'base.qcow2', '-F', 'qcow2']                                            | null
        ['-b', 'base.qcow2', '-F', 'qcow2', '-o', 'cluster_size=512']                  | '5M'
        ['-u', '-b', 'missing.qcow2', '-F', 'qcow2']                                   | '1M'
        ['-o', 'data_file=img.raw,data_file_raw=on,lazy_refcounts']                    | '1M'
        ['-o', 'size=4M,nocow=off,extended_l2=yes']                                    | null
    }

    /** qemu-img's message as one line: its continuation lines that repeat "qemu-img: " joined on, hints dropped. */
    static String oneLine(String err) {
        def lines = err.readLines()
        def msg = lines[0].replace('qemu-img: ', 'qcow2: ')
        lines.drop(1).takeWhile { it.startsWith('qemu-img: ') }.each { msg += ' ' + (it - 'qemu-img: ') }
        msg
    }

    def "create #args #size fails with qemu-img's message and exit status"() {
        when:
        def (qemu, ours) = both(args, size)

        then:
        qemu.exit == 1
        ours.exit == 1
        ours.err.readLines().size() == 1
        ours.err.trim().replace(o.toString(), 'DIR') == oneLine(qemu.err).replace(q.toString(), 'DIR')
        ours.out.replace(o.toString(), 'DIR') == qemu.out.replace(q.toString(), 'DIR')

        where:
        args                                        | size
        ['-o', 'cluster_size=1000']                 | '1M'
        ['-o', 'compat=0.10,lazy_refcounts=on']     | '1M'
        ['-o', 'refcount_bits=3']                   | '1M'
        ['-o', 'xyz=1']                             | '1M'
        ['-o', 'lazy_refcounts=maybe']              | '1M'
        ['-o', 'size=1M']                           | '2M'
        []                                          | null
        []                                          | '1M1'
        ['-b', 'base.qcow2']                        | '1M'
        ['-b', 'nope.qcow2', '-F', 'qcow2']         | '1M'
        ['-u', '-b', 'nope.qcow2', '-F', 'qcow2']   | null
        ['-F', 'qcow2']                             | '1M'
        ['-b', 'base.qcow2', '-F', 'qcow2', '-o', 'preallocation=falloc'] | null
    }

    def "-q prints nothing; -o help lists the options as qemu-img does"() {
        expect:
        Cli.run('create', '-q', o.resolve('x.qcow2'), '1M').out == ''
        Cli.run('create', '-o', 'help', o.resolve('x.qcow2')).out ==
                Qemu.img(['create', '-f', 'qcow2', '-o', 'help', q.resolve('x.qcow2').toString()]).out
    }

    def "encryption without a secret is refused with qemu-img's one line"() {
        when:
        def r = Cli.run('create', '-o', 'encrypt.format=luks', o.resolve('e.qcow2'), '1M')

        then:
        r.exit == 1
        r.err.trim() == "qcow2: ${o.resolve('e.qcow2')}: Parameter 'encrypt.key-secret' is required for cipher"
        !Files.exists(o.resolve('e.qcow2'))
    }
}
