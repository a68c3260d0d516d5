package dev.qcow2.cli

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir
import spock.lang.Unroll

import java.nio.file.Path

class InfoCommandSpec extends Specification {
    @TempDir Path dir

    @Unroll
    def "info matches qemu-img byte for byte (#name, #output)"() {
        given:
        def img = build(name)
        def before = Sha256.of(img)

        when:
        def ours = Cli.run(['info', "--output=$output"] + extra + [img])
        def ref = Qemu.img(['info', "--output=$output"] + extra + [img.toString()])

        then:
        ours.exit == 0
        ours.out == ref.out
        Sha256.of(img) == before

        where:
        [name, output, extra] << [
                ['v2', 'v3', 'chain', 'snapshots', 'bitmap', 'datafile', 'zstd', 'extl2', 'lazy', 'raw'],
                ['json', 'human'],
                [[], ['--backing-chain']]
        ].combinations()
    }

    def "a missing backing file does not stop info, but stops --backing-chain with one line"() {
        given:
        Qemu.create(dir.resolve('base.qcow2'), '1M')
        def top = Qemu.create(dir.resolve('top.qcow2'), '1M', 'backing_file=base.qcow2,backing_fmt=qcow2')
        dir.resolve('base.qcow2').toFile().delete()

        expect:
        Cli.run('info', '--output=json', top).json()['backing-filename'] == 'base.qcow2'

        when:
        def r = Cli.run('info', '--backing-chain', top)

        then:
        r.exit == 1
        r.err.startsWith('qcow2: ')
        r.err.readLines().size() == 1
    }

    def "a backing loop is reported, as qemu-img does"() {
        given:
        def a = dir.resolve('a.qcow2')
        def b = dir.resolve('b.qcow2')
        Qemu.create(a, '1M')
        Qemu.create(b, '1M', 'backing_file=a.qcow2,backing_fmt=qcow2')
        Qemu.img('rebase', '-u', '-F', 'qcow2', '-b', 'b.qcow2', a.toString())

        when:
        def r = Cli.run('info', '--backing-chain', b)

        then:
        r.exit == 1
        r.err.trim() == "qcow2: Backing file '${dir}/b.qcow2' creates an infinite loop."
    }

    def "garbage is a one-line error with exit 1"() {
        given:
        def f = dir.resolve('garbage.qcow2')
        java.nio.file.Files.write(f, [0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 9] as byte[])

        when:
        def r = Cli.run('info', f)

        then:
        r.exit == 1
        r.err.readLines().size() == 1
        r.err.startsWith("qcow2: ")
    }

    private Path build(String name) {
        def base = dir.resolve("$name-base.qcow2")
        def img = dir.resolve("${name}.qcow2")
        switch (name) {
            case 'v2': Qemu.create(img, '10M', 'compat=0.10'); break
            case 'v3': Qemu.create(img, '10M'); Qemu.io(img, 'write -P 7 0 128k'); break
            case 'chain':
                Qemu.create(base, '4M')
                def mid = Qemu.create(dir.resolve("$name-mid.qcow2"), '6M', "backing_file=${base.fileName},backing_fmt=qcow2")
                Qemu.create(img, "8M", "backing_file=${mid.fileName},backing_fmt=qcow2")
                break
            case 'snapshots':
                Qemu.create(img, '4M'); Qemu.io(img, 'write -P 1 0 64k')
                Qemu.img('snapshot', '-c', 'first', img.toString())
                Qemu.io(img, 'write -P 2 0 64k')
                Qemu.img('snapshot', '-c', 'second', img.toString())
                break
            case 'bitmap':
                Qemu.create(img, '4M')
                Qemu.img('bitmap', '--add', img.toString(), 'b0')
                Qemu.img('bitmap', '--add', '--disable', '-g', '128k', img.toString(), 'b1')
                break
            case 'datafile': Qemu.create(img, '4M', "data_file=${dir.resolve('data.raw')},data_file_raw=on"); break
            case 'zstd': Qemu.create(img, '4M', 'compression_type=zstd'); break
            case 'extl2': Qemu.create(img, '4M', 'extended_l2=on,cluster_size=128k'); break
            case 'lazy': Qemu.create(img, '4M', 'lazy_refcounts=on,refcount_bits=4'); break
            case 'raw':
                img = dir.resolve('disk.raw')
                Qemu.img('create', '-q', '-f', 'raw', img.toString(), '1000000')
                break
        }
        img
    }
}
