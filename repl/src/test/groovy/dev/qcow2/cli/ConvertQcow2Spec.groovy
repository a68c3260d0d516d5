package dev.qcow2.cli

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** qcow2 convert -O qcow2 [-c], cross-checked with qemu-img check, compare and map. */
class ConvertQcow2Spec extends Specification {
    @TempDir Path dir

    static final List<String> SOURCES = ['raw', 'chain3', 'compressed', 'zstd', 'cluster512', 'odd-size']

    /**
     * A raw file with compressible text, random (incompressible) blocks, all-zero 4 KiB blocks
     * inside data, holes, and a size that is not a multiple of the cluster size.
     */
    static Path rawSource(Path dir) {
        def rnd = new Random(42)
        byte[] text = ('qcow2-toolkit convert spec line with some words in it\n' * 4000).bytes
        byte[] noise = new byte[8192]
        rnd.nextBytes(noise)
        def raw = dir.resolve('src.raw')
        def f = new RandomAccessFile(raw.toFile(), 'rw')
        try {
            f.setLength((2 << 20) + 12 * 1024)
            f.seek(0); f.write(text, 0, 192 * 1024)
            f.seek(256 * 1024); f.write(noise, 0, 4096)
            f.seek(264 * 1024); f.write(text, 0, 36 * 1024)    // 260k..264k stays a zero block in a data cluster
            f.seek(1 << 20); f.write(noise)
            f.seek((2 << 20) + 4096); f.write(text, 0, 6000)  // data in the partial last cluster
        } finally {
            f.close()
        }
        raw
    }

    Path source(String kind) { kind == 'raw' ? rawSource(dir) : Images.build(dir, kind) }

    static Map check(Path img) {
        def r = Qemu.img(['check', '--output=json', img.toString()], false)
        assert r.exit == 0: "qemu-img check $img: $r"
        r.json() as Map
    }

    def "convert #flags -O qcow2 of #kind reads back equal and passes qemu-img check"() {
        given:
        def src = source(kind)
        def before = Sha256.of(src)
        def out = dir.resolve('out.qcow2')

        when:
        def r = Cli.run(['convert'] + flags + ['-O', 'qcow2', src, out])

        then:
        r.exit == 0
        r.err == ''
        def report = check(out)
        Qemu.img('compare', src.toString(), out.toString()).out.contains('Images are identical')
        // compressed clusters exactly when -c was given and the source has a compressible cluster
        (report['compressed-clusters'] ?: 0) > 0 == flags.contains('-c')
        Qemu.img(['info', '--output=json', out.toString()]).json()['backing-filename'] == null
        Sha256.of(src) == before

        where:
        [kind, flags] << [SOURCES, [
                [],
                ['-o', 'cluster_size=4k'],
                ['-c'],
                ['-c', '-o', 'compression_type=zstd'],
                ['-c', '-o', 'cluster_size=4k'],
                ['-c', '-o', 'compression_type=zstd,cluster_size=4k']]].combinations()
    }

    def "the target has the -o options: #options"() {
        given:
        def out = dir.resolve('o.qcow2')

        when:
        def r = Cli.run('convert', '-O', 'qcow2', '-o', options, rawSource(dir), out)
        def info = Qemu.img(['info', '--output=json', out.toString()]).json()

        then:
        r.exit == 0
        info['cluster-size'] == clusterSize
        info['format-specific']['data']['compat'] == compat
        info['virtual-size'] == (2 << 20) + 12 * 1024
        check(out)

        where:
        options                          | clusterSize | compat
        'cluster_size=64k'               | 65536       | '1.1'
        'compat=0.10,cluster_size=512'   | 512         | '0.10'
        'refcount_bits=1,cluster_size=2M'| 2097152     | '1.1'
    }

    def "the allocation of a raw source's copy equals qemu-img convert's (#options)"() {
        given:
        def src = rawSource(dir)
        def ours = dir.resolve('ours.qcow2')
        def theirs = dir.resolve('theirs.qcow2')

        when:
        def r = Cli.run('convert', '-O', 'qcow2', '-o', options, src, ours)
        Qemu.img('convert', '-O', 'qcow2', '-o', options, src.toString(), theirs.toString())

        then:
        r.exit == 0
        allocation(ours) == allocation(theirs)
        allocation(ours).any { !it.data } && allocation(ours).any { it.data }

        where:
        options << ['cluster_size=64k', 'cluster_size=4k', 'cluster_size=512']
    }

    /**
     * qemu-img map's extents without host offsets, adjacent extents of the same kind merged
     * (map also splits where the host layout is discontiguous, which is not the allocation).
     */
    static List<Map> allocation(Path img) {
        List<Map> merged = []
        Qemu.img(['map', '--output=json', img.toString()]).json().each {
            def last = merged ? merged[-1] : null
            if (last && last.data == it.data && last.zero == it.zero && last.start + last.length == it.start) {
                last.length += it.length
            } else {
                merged << [start: it.start, length: it.length, data: it.data, zero: it.zero]
            }
        }
        merged
    }

    def "a raw source of 100001 bytes becomes a disk of whole sectors, as with qemu-img (#flags)"() {
        given:
        def src = dir.resolve('odd.raw')
        src.toFile().bytes = (0..<100001).collect { (byte) (it % 251) } as byte[]
        def ours = dir.resolve('ours.qcow2')
        def theirs = dir.resolve('theirs.qcow2')

        when:
        def r = Cli.run(['convert'] + flags + ['-O', 'qcow2', src, ours])
        Qemu.img(['convert'] + flags + ['-O', 'qcow2', src.toString(), theirs.toString()])

        then:
        r.exit == 0
        check(ours)
        Qemu.img(['info', '--output=json', ours.toString()]).json()['virtual-size'] == 100352
        Qemu.rawBytes(ours) == Qemu.rawBytes(theirs)

        where:
        flags << [[], ['-c']]
    }

    def "a snapshot is exported with -l #spec #flags"() {
        given:
        def img = Images.build(dir, 'snapshots')
        def out = dir.resolve('snap.qcow2')

        when:
        def r = Cli.run(['convert'] + flags + ['-O', 'qcow2', '-l', spec, img, out])

        then:
        r.exit == 0
        check(out)
        Qemu.rawBytes(out) == Qemu.rawBytes(img, spec)
        Qemu.rawBytes(out) != Qemu.rawBytes(img)

        where:
        spec  | flags
        'one' | []
        '1'   | ['-c']
        'two' | ['-c', '-o', 'compression_type=zstd']
    }

    def "a bad -o option and -O qcow2 to stdout are one-line errors"() {
        when:
        def r = Cli.run(['convert', '-O', 'qcow2'] + args.collect { it == 'SRC' ? rawSource(dir) : it })

        then:
        r.exit == 1
        r.err.readLines().size() == 1
        r.err.contains(message)

        where:
        args                                                        | message
        ['-o', 'cluster_size=3000', 'SRC', 'x.qcow2']               | 'Cluster size must be a power of two'
        ['SRC', '-']                                                | 'stdout'
    }
}
