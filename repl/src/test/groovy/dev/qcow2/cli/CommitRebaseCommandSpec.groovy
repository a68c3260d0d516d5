package dev.qcow2.cli

import dev.qcow2.testing.Sha256

import dev.qcow2.chain.Chains
import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * {@code qcow2 commit} and {@code qcow2 rebase} against qemu-img on twins of one chain: same
 * exit status, same stdout (the progress lines aside), the same first error line (our
 * "qcow2: " for qemu-img's "qemu-img: "), and afterwards every image checks clean with the
 * same guest bytes and backing file; refusals leave every file unchanged.
 */
class CommitRebaseCommandSpec extends Specification {
    @TempDir Path dir
    @Shared @TempDir Path source

    def setupSpec() {
        Chains.build(source, LAYERS)
        Chains.build(source, [['other.qcow2', '', '2M', ['write -P 0x55 0 1M']], ['plain.raw', '', '1M', []]])
    }

    static final List LAYERS = [['base.qcow2', '', '2M', ['write -P 0x11 0 2M']],
                                ['mid.qcow2', '', '2M', ['write -P 0x22 64k 128k', 'write -z 1M 64k']],
                                ['top.qcow2', '', '3M', ['write -P 0x33 0 4k', 'write -z 128k 64k', 'write -P 0x34 2M 64k']]]

    def "qcow2 #command #args behaves as qemu-img #command"() {
        given:
        Chains.twin(source, dir.resolve('ours'))
        Chains.twin(source, dir.resolve('theirs'))
        def ours = dir.resolve('ours')
        def theirs = dir.resolve('theirs')
        def before = hashes(ours)

        when:
        def run = Cli.run([command] + args + files.collect { ours.resolve(it).toString() })
        def ref = Qemu.run([Qemu.QEMU_IMG, command] + args + files.collect { theirs.resolve(it).toString() })

        then:
        run.exit == ref.exit
        withoutProgress(run.out) == withoutProgress(ref.out)
        run.out.startsWith('    (0.00/100%)\r') == ref.out.startsWith('    (0.00/100%)\r')
        run.out.contains('    (100.00/100%)\r\n') == ref.out.contains('    (100.00/100%)\r\n')
        message(run.err, 'qcow2: ', ours) == message(ref.err, 'qemu-img: ', theirs)
        ref.exit == 0 ? sameChains(ours, theirs) : hashes(ours) == before

        where:
        command  | args                                        | files
        'commit' | []                                          | ['top.qcow2']
        'commit' | ['-q', '-t', 'none']                        | ['top.qcow2']
        'commit' | ['-d', '-p']                                | ['top.qcow2']
        'commit' | ['-b', 'base.qcow2', '-r', '1M']            | ['top.qcow2']
        'commit' | ['-f', 'qcow2']                             | ['mid.qcow2']
        'commit' | []                                          | ['base.qcow2']
        'commit' | ['-f', 'raw']                               | ['top.qcow2']
        'commit' | ['-b', 'nope.qcow2']                        | ['top.qcow2']
        'commit' | ['-t', 'bogus']                             | ['top.qcow2']
        'commit' | ['-r', 'xx']                                | ['top.qcow2']
        'commit' | []                                          | []
        'commit' | []                                          | ['top.qcow2', 'mid.qcow2']
        'rebase' | ['-b', 'base.qcow2', '-F', 'qcow2']         | ['top.qcow2']
        'rebase' | ['-p', '-b', 'other.qcow2', '-F', 'qcow2']  | ['top.qcow2']
        'rebase' | ['-q', '-b', '']                            | ['top.qcow2']
        'rebase' | ['-u', '-b', 'other.qcow2', '-F', 'qcow2']  | ['top.qcow2']
        'rebase' | ['-u', '-U', '-t', 'none', '-T', 'none']    | ['mid.qcow2']
        'rebase' | ['-b', 'plain.raw', '-F', 'raw']            | ['top.qcow2']
        'rebase' | ['-b', 'other.qcow2']                       | ['top.qcow2']
        'rebase' | ['-b', 'nope.qcow2', '-F', 'qcow2']         | ['top.qcow2']
        'rebase' | ['-b', 'other.qcow2', '-F', 'foo']          | ['top.qcow2']
        'rebase' | []                                          | ['top.qcow2']
        'rebase' | ['-u', '-b', 'x', '-F', 'raw']              | []
        'rebase' | ['-f', 'raw', '-u', '-b', 'x', '-F', 'raw'] | ['top.qcow2']
        'rebase' | ['-t', 'bogus', '-b', '']                   | ['top.qcow2']
        'rebase' | ['-T', 'bogus', '-b', '']                   | ['top.qcow2']
    }

    /** Every image of our twin checks clean and equals qemu-img's in guest bytes, size and backing file. */
    static boolean sameChains(Path ours, Path theirs) {
        ['base.qcow2', 'mid.qcow2', 'top.qcow2', 'other.qcow2'].every { name ->
            Qemu.img(['check', ours.resolve(name).toString()], false).exit == 0 &&
                    Chains.info(ours.resolve(name)) == Chains.info(theirs.resolve(name)) &&
                    Arrays.equals(Qemu.rawBytes(ours.resolve(name)), Qemu.rawBytes(theirs.resolve(name)))
        }
    }

    static String withoutProgress(String out) { out.replaceAll(/ {4}\(\d+\.\d\d\/100%\)\r\n?/, '') }

    /**
     * The error message: stderr lines without the tool's prefix, the twin's directory and the
     * "Try ... --help" hint, joined into one line (qemu-img wraps a few messages over two lines).
     */
    static String message(String err, String prefix, Path dir) {
        err.readLines().findAll { !it.startsWith('Try ') }
                .collect { it.replaceFirst('^' + prefix, '').replace(dir.toString() + '/', '') }.join(' ')
    }

    static Map hashes(Path dir) {
        dir.toFile().listFiles().collectEntries { [(it.name): Sha256.of(it.toPath())] }
    }
}
