package dev.qcow2.cli

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * {@code qcow2 io} against qemu-io: the same commands on two copies of an image give the same
 * output (timing lines aside), the same exit status, and images qemu-img finds clean and equal.
 */
class IoCommandSpec extends Specification {
    @TempDir Path dir

    /** Drops the lines whose content is timing ("... ops; 00.00 sec (...)"). */
    static String untimed(String out) { out.readLines().findAll { !(it =~ /ops; .*sec/) }.join('\n') }

    def "qcow2 io runs #commands like qemu-io (#options)"() {
        given:
        def ours = Qemu.create(dir.resolve('ours.qcow2'), '4M', options)
        Qemu.io(ours, 'write -P 0x11 0 256k', 'write -c -P 0x22 1M 64k')
        def theirs = dir.resolve('theirs.qcow2')
        Files.copy(ours, theirs)

        when:
        def run = Cli.run(['io', '-f', 'qcow2'] + commands.collectMany { ['-c', it] } + [ours])
        def ref = Qemu.run([Qemu.QEMU_IO, '-f', 'qcow2'] + commands.collectMany { ['-c', it] } + [theirs.toString()])

        then:
        untimed(run.out) == untimed(ref.out)
        run.exit == ref.exit
        Qemu.img(['check', ours.toString()], false).exit == 0
        Qemu.img(['compare', ours.toString(), theirs.toString()], false).exit == 0

        where:
        options            | commands
        ''                 | ['write -P 0xab 100 1000', 'read -P 0xab 100 1000', 'read -v 96 40']
        ''                 | ['write 64k 128k', 'read -P 0xcd 64k 128k', 'read -P 0x11 0 512', 'read -P 0x12 0 512']
        ''                 | ['write -z 0 64k', 'write -z -u 64k 64k', 'read -P 0 0 128k', 'map']
        ''                 | ['discard 0 100k', 'discard 1M 64k', 'flush', 'read -P 0 0 64k', 'map']
        ''                 | ['write -c -P 0x33 2M 128k', 'read -P 0x33 2M 128k', 'map']
        'compat=0.10'      | ['write -z 8k 8k', 'discard 128k 64k', 'read -P 0x11 64k 64k', 'map']
        'extended_l2=on'   | ['write -P 0x44 3k 2k', 'write -z 32k 2k', 'read -P 0x44 3k 2k', 'map']
        'cluster_size=512' | ['write -P 0x55 1000 5000', 'read -P 0x55 1000 5000', 'read 4M 1', 'bogus 1', 'write 1 2 3']
        ''                 | ['write -c 0 4k', 'write -c 4M 64k', 'discard 5M 1', 'write -P 0x66 4190208 4096']
    }

    def "writing a dirty or corrupt image is refused with one clear line"() {
        given:
        def img = Qemu.create(dir.resolve('d.qcow2'), '1M', 'lazy_refcounts=on')
        def bytes = Files.readAllBytes(img)
        bytes[79] = (byte) bit
        Files.write(img, bytes)

        when:
        def run = Cli.run('io', '-c', 'write 0 512', img)

        then:
        run.exit == 1
        run.err.trim() == "qcow2: ${img}: $message"

        where:
        bit | message
        1   | 'image is dirty (lazy refcounts); run `qcow2 check -r all` first'
        2   | 'qcow2: Image is corrupt; cannot be opened read/write'
    }
}
