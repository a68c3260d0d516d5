package dev.qcow2.cli

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * {@code qcow2 resize} against {@code qemu-img resize} on a copy of the same image: same exit
 * status, same stdout, same error text (our "qcow2: " prefix for qemu-img's), and afterwards
 * the same virtual size and guest bytes with a clean check.
 */
class ResizeCommandSpec extends Specification {
    @TempDir Path dir

    /** qemu-img's stderr lines without the "qemu-img: " prefix. */
    static List<String> qemuLines(String err) { err.readLines().collect { it.replaceFirst(/^qemu-img: /, '') } }

    /** Our stderr lines without "qcow2: " and without the image name our library messages start with. */
    static List<String> ourLines(String err, Path image) {
        err.readLines().collect { it.replaceFirst(/^qcow2: /, '').replace("$image: ", '') }
    }

    def "qcow2 resize #args behaves as qemu-img resize (#options)"() {
        given:
        def ours = Qemu.create(dir.resolve('ours.qcow2'), '2M', options)
        Qemu.io(ours, 'write -P 0x5a 0 2M')
        def theirs = dir.resolve('theirs.qcow2')
        Files.copy(ours, theirs)

        when:
        def run = Cli.run(['resize'] + args + [ours, size])
        def ref = Qemu.run([Qemu.QEMU_IMG, 'resize'] + args + [theirs.toString(), size])

        then:
        run.exit == ref.exit
        run.out == ref.out
        ourLines(run.err, ours) == qemuLines(ref.err)
        Qemu.img(['check', ours.toString()], false).exit == 0
        virtualSize(ours) == virtualSize(theirs)
        Qemu.img(['compare', ours.toString(), theirs.toString()], false).exit == 0

        where:
        options            | args                      | size
        ''                 | []                        | '3M'
        ''                 | []                        | '+1M'
        ''                 | ['-q']                    | '+1.5M'
        'cluster_size=512' | ['-f', 'qcow2']           | '40M'
        ''                 | []                        | '1M'
        ''                 | []                        | '-1M'
        ''                 | ['--shrink']              | '-1M'
        'cluster_size=512' | ['--shrink']              | '1000k'
        ''                 | ['--shrink', '-q']        | '0x100000'
        ''                 | []                        | '+0'
        ''                 | []                        | '-0'
        ''                 | []                        | '+1000'
        ''                 | []                        | '0'
        ''                 | ['--shrink']              | '-5M'
        ''                 | []                        | '8E'
        ''                 | ['--preallocation=off']   | '4M'
        ''                 | ['--preallocation=bogus'] | '4M'
        ''                 | ['--preallocation=metadata'] | '+1.5M'
        'cluster_size=4096' | ['--preallocation=falloc'] | '5M'
        'extended_l2=on'   | ['--preallocation=full', '-q'] | '+1000k'
        ''                 | ['--preallocation=full']  | '1M'
        ''                 | ['--preallocation=falloc'] | '+0'
        ''                 | ['--preallocation=metadata', '--shrink'] | '-512k'
        'compat=0.10'      | []                        | '1023.5k'
        'compat=0.10'      | ['--shrink']              | '1023.5k'
    }

    def "refusals leave the image untouched: #why"() {
        given:
        def img = Qemu.create(dir.resolve('img.qcow2'), '1M', options)
        if (snapshot) Qemu.img('snapshot', '-c', 's1', img.toString())
        def sha = Sha256.of(img)

        when:
        def run = Cli.run(['resize'] + args.collect { it == 'IMG' ? img.toString() : it })

        then:
        run.exit == 1
        run.out == ''
        run.err.readLines() == ["qcow2: ${message.replace('IMG', img.toString())}".toString()]
        Sha256.of(img) == sha

        where:
        why                     | options       | snapshot | args                 || message
        'bad size'              | ''            | false    | ['IMG', '1x']        || "Parameter 'size' expects a non-negative number below 2^64 (optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta- and exabytes, respectively)"
        'fraction without unit' | ''            | false    | ['IMG', '+1.5']      || "Parameter 'size' expects a non-negative number below 2^64 (optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta- and exabytes, respectively)"
        'size out of range'     | ''            | false    | ['IMG', '16E']       || "Value '16E' is out of range for parameter 'size'"
        'no size'               | ''            | false    | ['IMG']              || 'Expecting image file name and size'
        'too many arguments'    | ''            | false    | ['IMG', '1M', '2M']  || 'Expecting image file name and size'
        'v2 with snapshots'     | 'compat=0.10' | true     | ['IMG', '2M']        || "${'IMG'}: Can't resize a v2 image which has snapshots"
        'not whole sectors'     | ''            | false    | ['IMG', '+1000']     || "${'IMG'}: The new size must be a multiple of 512"
        'other format'          | ''            | false    | ['-f', 'raw', 'IMG', '2M'] || "resize: only qcow2 images can be resized, not 'raw'"
        'preallocation shrink'  | ''            | false    | ['--preallocation=full', '--shrink', 'IMG', '512k'] || 'Preallocation can only be used for growing images'
    }

    def "a raw file is refused with -f qcow2 like qemu-img (naming the file) and left unchanged"() {
        given:
        def raw = dir.resolve('disk.raw')
        Files.write(raw, new byte[1 << 20])
        def ref = Qemu.run([Qemu.QEMU_IMG, 'resize', '-f', 'qcow2', raw.toString(), '2M'])

        when:
        def run = Cli.run('resize', '-f', 'qcow2', raw, '2M')

        then:
        ref.exit == 1
        run.exit == 1
        qemuLines(ref.err) == ["Could not open '$raw': Image is not in qcow2 format".toString()]
        run.err.readLines() == ["qcow2: $raw: Image is not in qcow2 format".toString()]
        Files.size(raw) == 1 << 20
    }

    static long virtualSize(Path image) { Qemu.img('info', '--output=json', image.toString()).json()['virtual-size'] as long }
}
