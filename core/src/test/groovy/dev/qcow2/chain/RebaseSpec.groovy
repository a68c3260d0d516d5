package dev.qcow2.chain

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * Rebase against qemu-img rebase on a twin: both results check clean, keep the guest bytes the
 * image showed before, and name the same backing file; unsafe rebases (which change only the
 * header) produce the same first cluster byte for byte.
 */
class RebaseSpec extends Specification {
    @TempDir Path dir

    static final List<String> TOP_IO = ['write -P 0x33 0 4k', 'write -z 64k 64k', 'write -P 0x34 1M 300k', 'discard 2M 64k']
    static final List BASE = ['base.qcow2', '', '4M', ['write -P 0x11 0 4M']]
    static final List MID = ['mid.qcow2', '', '4M', ['write -P 0x22 512k 1M', 'write -z 3M 64k']]

    def "#name: rebase #args gives what qemu-img rebase gives"() {
        given:
        Chains.build(dir.resolve('src'), layers)
        others.each { Chains.build(dir.resolve('src'), [it]) }
        Chains.twin(dir.resolve('src'), dir.resolve('ours'))
        Chains.twin(dir.resolve('src'), dir.resolve('theirs'))
        String top = layers.last()[0]
        def ours = dir.resolve('ours').resolve(top)
        def theirs = dir.resolve('theirs').resolve(top)
        byte[] before = Qemu.rawBytes(ours)
        boolean unsafe = args.contains('-u')
        String backing = args.contains('-b') ? args[args.indexOf('-b') + 1] : null
        String format = args.contains('-F') ? args[args.indexOf('-F') + 1] : null

        when:
        Rebase.rebase(ours, new Rebase.Options(backing, format, unsafe), Progress.NONE)
        Qemu.img(['rebase', '-q'] + args + [theirs.toString()])

        then:
        Chains.check(ours) == 0
        Chains.check(theirs) == 0
        Chains.info(ours) == Chains.info(theirs)
        unsafe || Arrays.equals(Qemu.rawBytes(ours), before)
        Arrays.equals(Qemu.rawBytes(ours), Qemu.rawBytes(theirs))
        !unsafe || Arrays.equals(cluster0(ours), cluster0(theirs))

        where:
        name                  | args                                  | layers                                  | others
        'onto base in chain'  | ['-b', 'base.qcow2', '-F', 'qcow2']   | [BASE, MID, topImage('')]                    | []
        'onto other image'    | ['-b', 'other.qcow2', '-F', 'qcow2']  | [BASE, topImage('')]                         | [other('')]
        'onto raw'            | ['-b', 'other.raw', '-F', 'raw']      | [BASE, topImage('')]                         | [['other.raw', '', '4M', ['write -P 0x11 0 1M', 'write -P 0x55 2M 1M']]]
        'backing removed'     | ['-b', '']                            | [BASE, MID, topImage('')]                    | []
        'no backing before'   | ['-b', 'other.qcow2', '-F', 'qcow2']  | [topImage('')]                               | [other('')]
        'old backing shorter' | ['-b', 'other.qcow2', '-F', 'qcow2']  | [['base.qcow2', '', '1M', ['write -P 0x11 0 1M']], topImage('')] | [other('')]
        'new backing shorter' | ['-b', 'other.qcow2', '-F', 'qcow2']  | [BASE, topImage('')]                         | [['other.qcow2', '', '1536k', ['write -P 0x11 0 1536k']]]
        'unaligned differences' | ['-b', 'other.qcow2', '-F', 'qcow2'] | [BASE, topImage('')]                        | [['other.qcow2', '', '4M', ['write -P 0x11 0 4M', 'write -P 0x66 1000 700', 'write -P 0x67 3000k 3k']]]
        'small clusters'      | ['-b', 'other.qcow2', '-F', 'qcow2']  | [BASE, topImage('cluster_size=512')]         | [other('cluster_size=2M')]
        'extended L2'         | ['-b', 'other.qcow2', '-F', 'qcow2']  | [BASE, topImage('extended_l2=on')]           | [other('')]
        'v2 top'              | ['-b', 'other.qcow2', '-F', 'qcow2']  | [BASE, topImage('compat=0.10')]              | [other('')]
        'subdirectory name'   | ['-b', 'sub/n.qcow2', '-F', 'qcow2']  | [BASE, topImage('')]                         | [['sub/n.qcow2', '', '4M', ['write -P 0x77 0 64k']]]
        'unsafe'              | ['-u', '-b', 'other.qcow2', '-F', 'qcow2'] | [BASE, topImage('')]                    | [other('')]
        'unsafe, 4k clusters' | ['-u', '-b', 'x/y/long-name.img', '-F', 'raw'] | [BASE, topImage('cluster_size=4k')] | [['x/y/long-name.img', '', '4M', []]]
        'unsafe, 512 clusters'| ['-u', '-b', 'other.qcow2', '-F', 'qcow2'] | [BASE, topImage('cluster_size=512')]    | [other('')]
        'unsafe, v2'          | ['-u', '-b', 'other.qcow2', '-F', 'qcow2'] | [BASE, topImage('compat=0.10')]         | [other('')]
        'unsafe removal'      | ['-u', '-b', '']                      | [BASE, topImage('')]                         | []
        'unsafe, no -b'       | ['-u']                                | [BASE, topImage('')]                         | []
    }

    static List topImage(String opts) { ['top.qcow2', opts, '4M', TOP_IO] }

    static List other(String opts) { ['other.qcow2', opts, '4M', ['write -P 0x11 0 1M', 'write -P 0x55 2M 1M', 'write -z 3M 1M']] }

    static byte[] cluster0(Path image) {
        int bits = java.nio.ByteBuffer.wrap(Files.readAllBytes(image), 20, 4).getInt()
        Arrays.copyOf(Files.readAllBytes(image), 1 << bits)
    }
}
