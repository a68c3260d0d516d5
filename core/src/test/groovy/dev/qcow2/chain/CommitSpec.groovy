package dev.qcow2.chain

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * Commit against qemu-img commit on a twin of the same chain: every image of both chains checks
 * clean, shows the same guest bytes (convert -O raw) and the same size and backing file.
 */
class CommitSpec extends Specification {
    @TempDir Path dir

    static final List<String> TOP_IO = ['write -P 0x33 0 4k', 'write -z 64k 64k', 'write -P 0x34 1M 300k',
                                        'discard 2M 64k', 'write -z -u 3M 128k', 'write -P 0x35 3968k 128k']

    def "#name: commit #args gives what qemu-img commit gives"() {
        given:
        def built = Chains.build(dir.resolve('src'), layers)
        Chains.twin(dir.resolve('src'), dir.resolve('ours'))
        Chains.twin(dir.resolve('src'), dir.resolve('theirs'))
        def names = built.collect { it.fileName.toString() }
        def ours = names.collect { dir.resolve('ours').resolve(it) }
        def theirs = names.collect { dir.resolve('theirs').resolve(it) }
        String base = args.contains('-b') ? args[args.indexOf('-b') + 1] : null

        when:
        Commit.commit(ours.last(), new Commit.Options(base, args.contains('-d')), Progress.NONE)
        Qemu.img(['commit', '-q'] + args + [theirs.last().toString()])

        then:
        ours.every { Chains.check(it) == 0 }
        theirs.every { Chains.check(it) == 0 }
        (0..<names.size()).every { Chains.info(ours[it]) == Chains.info(theirs[it]) }
        (0..<names.size()).every { Arrays.equals(Qemu.rawBytes(ours[it]), Qemu.rawBytes(theirs[it])) }
        emptiedTopSize(ours.last(), theirs.last(), args)

        where:
        name               | args                      | layers
        'two layers'       | []                        | [['base.qcow2', '', '4M', ['write -P 0x11 0 4M']], ['top.qcow2', '', '4M', TOP_IO]]
        'into mid'         | []                        | three()
        'into mid, -d'     | ['-d']                    | three()
        'deeper base'      | ['-b', 'base.qcow2']      | three()
        'cluster sizes'    | []                        | [['base.qcow2', 'cluster_size=4k', '4M', ['write -P 0x11 512 3M']],
                                                          ['top.qcow2', 'cluster_size=512', '4M', TOP_IO]]
        'big top clusters' | ['-b', 'base.qcow2']      | [['base.qcow2', 'cluster_size=512', '4M', ['write -P 0x11 0 1M']],
                                                          ['mid.qcow2', 'cluster_size=2M', '4M', ['write -P 0x22 100k 10k', 'write -z 2M 2M']],
                                                          ['top.qcow2', '', '4M', ['write -P 0x33 1M 4k']]]
        'raw base'         | []                        | [['base.raw', '', '4M', ['write -P 0x11 0 4M']], ['top.qcow2', '', '4M', TOP_IO]]
        'base grows'       | []                        | [['base.qcow2', '', '1M', ['write -P 0x11 0 1M']], ['top.qcow2', '', '5M', TOP_IO + ['write -P 0x36 4900k 8k']]]
        'raw base grows'   | []                        | [['base.raw', '', '1M', ['write -P 0x11 0 1M']], ['top.qcow2', '', '5M', TOP_IO]]
        'short mid'        | ['-b', 'base.qcow2']      | [['base.qcow2', '', '4M', ['write -P 0x11 0 4M']], ['mid.qcow2', '', '2M', ['write -P 0x22 0 64k']],
                                                          ['top.qcow2', '', '4M', ['write -P 0x33 128k 4k']]]
        'v2 top'           | []                        | [['base.qcow2', 'compat=0.10', '4M', ['write -P 0x11 0 4M']], ['top.qcow2', 'compat=0.10', '4M', TOP_IO]]
        'extended L2 top'  | []                        | [['base.qcow2', '', '4M', ['write -P 0x11 0 4M']], ['top.qcow2', 'extended_l2=on', '4M', TOP_IO]]
        'compressed top'   | []                        | [['base.qcow2', '', '4M', ['write -P 0x11 0 4M']], ['top.qcow2', '', '4M', ['write -c -P 0x44 0 64k', 'write -c -P 0x45 1M 64k']]]
        'top with snapshot'| []                        | [['base.qcow2', '', '4M', ['write -P 0x11 0 4M']], ['top.qcow2', '', '4M', TOP_IO + ['snapshot s1']]]
    }

    static List<List> three() {
        [['base.qcow2', '', '4M', ['write -P 0x11 0 4M']],
         ['mid.qcow2', '', '4M', ['write -P 0x22 512k 1M', 'write -z 3M 64k', 'discard 0 64k']],
         ['top.qcow2', '', '4M', TOP_IO]]
    }

    /**
     * Kept tops are untouched by both. An emptied top allocates nothing; a v3 top with 64 KiB
     * clusters and no snapshot is cut back to what qemu-img leaves (header, refcount table and
     * block, L1). Other layouts differ in size: QEMU rebuilds the refcount structure compactly.
     */
    private static boolean emptiedTopSize(Path ours, Path theirs, List args) {
        if (args) return Files.size(ours) == Files.size(theirs)
        def map = Qemu.img('map', '--output=json', ours.toString()).json()
        assert map.every { it.depth > 0 }
        def info = Qemu.img('info', '--output=json', ours.toString()).json()
        boolean standard = info['cluster-size'] == 65536 && info['format-specific']['data']['compat'] == '1.1' && !info['snapshots']
        !standard || Files.size(ours) == Files.size(theirs)
    }
}
