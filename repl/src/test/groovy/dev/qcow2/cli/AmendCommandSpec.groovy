package dev.qcow2.cli

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * {@code qcow2 amend} against {@code qemu-img amend} on a copy of the same image: same exit
 * status, same stdout, same error text (our "qcow2: " prefix and image name for qemu-img's
 * prefix), and afterwards a clean check, the same guest data and the same info fields.
 */
class AmendCommandSpec extends Specification {
    @TempDir Path dir

    static List<String> qemuLines(String err) { err.readLines().collect { it.replaceFirst(/^qemu-img: /, '') } }

    static List<String> ourLines(String err, Path image) {
        err.readLines().collect { it.replaceFirst(/^qcow2: /, '').replace("$image: ", '') }
    }

    static Map info(Path image) {
        def i = Qemu.img('info', '--output=json', image.toString()).json()
        def d = i['format-specific']['data']
        [compat: d['compat'], refcountBits: d['refcount-bits'], lazy: d['lazy-refcounts'], size: i['virtual-size'],
         backing: i['backing-filename'], snapshots: i['snapshots']?.size()]
    }

    def "qcow2 amend #args behaves as qemu-img amend (#create)"() {
        given:
        def ours = Qemu.create(dir.resolve('ours.qcow2'), '1M', create)
        Qemu.io(ours, 'write -P 0x5a 0 256k', 'write -z 64k 64k', 'write -z 512k 64k')
        Qemu.img('snapshot', '-c', 'snap', ours.toString())
        def theirs = dir.resolve('theirs.qcow2')
        Files.copy(ours, theirs)

        when:
        def run = Cli.run(['amend'] + args + [ours])
        def ref = Qemu.run([Qemu.QEMU_IMG, 'amend'] + args + [theirs.toString()])

        then:
        run.exit == ref.exit
        run.out == ref.out
        ourLines(run.err, ours) == qemuLines(ref.err)
        Qemu.img(['check', ours.toString()], false).exit == 0
        Qemu.img(['compare', ours.toString(), theirs.toString()], false).exit == 0
        run.exit != 0 || Qemu.rawBytes(ours, 'snap') == Qemu.rawBytes(theirs, 'snap')
        info(ours) == info(theirs)

        where:
        create              | args
        null                | ['-o', 'compat=v2']
        'compat=0.10'       | ['-f', 'qcow2', '-o', 'compat=1.1', '-o', 'lazy_refcounts=on']
        null                | ['-q', '-o', 'refcount_bits=8']
        'cluster_size=4096' | ['-o', 'refcount_bits=64,size=2M']
        'lazy_refcounts=on' | ['-p', '-o', 'lazy_refcounts=off']
        null                | ['-p', '-q', '--force', '-o', 'size=1M']
        null                | ['-o', 'cluster_size=4096']
        null                | ['-o', 'compat=v2,nocow=on']
        null                | ['-o', 'compat=v3,backing_file=base.qcow2']
        null                | ['-o', 'compat=v5']
        null                | ['-o', 'refcount_bits=1']
        null                | ['-o', 'size=2M,compat=v2']
        null                | ['-o', 'compat=v2,']
        null                | ['-o', 'help']
        null                | ['-f', 'raw', '-o', 'compat=v2']
    }

    def "usage errors are reported like qemu-img's: #args"() {
        given:
        def image = Qemu.create(dir.resolve('img.qcow2'), '1M')
        String before = Sha256.of(image)
        def fullArgs = args.collect { it == 'IMG' ? image.toString() : it }

        when:
        def run = Cli.run(['amend'] + fullArgs)
        def ref = Qemu.run([Qemu.QEMU_IMG, 'amend'] + fullArgs)

        then:
        run.exit == ref.exit
        run.out == ref.out
        ourLines(run.err, image)[0] == qemuLines(ref.err)[0]?.replace("Could not open 'nofile.qcow2': Could not open", 'Could not open')
        Sha256.of(image) == before

        where:
        args << [['IMG'], ['-o', 'compat=v2'], ['-o', 'compat=v2', 'IMG', 'IMG'], ['-o', 'compat=v2', 'nofile.qcow2'],
                 ['-f', 'qcow2', '-o', 'help'], ['-o', ',', 'IMG']]
    }
}
