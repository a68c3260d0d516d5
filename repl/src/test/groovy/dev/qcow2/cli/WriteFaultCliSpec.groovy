package dev.qcow2.cli

import dev.qcow2.testing.FaultyStorage
import dev.qcow2.testing.Qemu
import dev.qcow2.write.Qcow2Writer
import dev.qcow2.write.WriteOptions
import picocli.CommandLine
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * Disk errors at the command line: one line naming the file and the system's reason, exit 1, no
 * stack trace. A full disk is real here (/dev/full answers every write with ENOSPC); an EIO
 * cannot be made without root, so the error kinds the library raises under injected faults
 * ({@link FaultyStorage}, worded as WritableFileStorage words a failed system call) go through the
 * CLI's own error handler ({@link Errors}), the one every command's failure reaches.
 */
class WriteFaultCliSpec extends Specification {
    @TempDir Path dir

    def "convert -O raw to a full disk: one line naming the target, exit 1 as qemu-img, no stack trace"() {
        given:
        def src = Qemu.create(dir.resolve('src.qcow2'), '1M', 'cluster_size=4096')
        Qemu.io(src, 'write -P 0x5a 0 64k')
        def full = Path.of('/dev/full')
        assert Files.exists(full): '/dev/full is needed'

        when:
        def ours = Cli.run('convert', '-O', 'raw', src, full)
        def theirs = Qemu.img(['convert', '-O', 'raw', src.toString(), full.toString()], false)

        then:
        ours.exit == 1
        theirs.exit == 1
        ours.err == 'qcow2: /dev/full: write failed: No space left on device\n'
        // qemu-img refuses earlier, when it tries to grow the device to the image size
        theirs.err == 'qemu-img: /dev/full: error while converting raw: Cannot grow device files\n'
    }

    def "a convert -O qcow2 that fails midway removes its half-written target (qemu-img leaves it)"() {
        given: 'a source whose first cluster is compressed garbage'
        def src = Qemu.create(dir.resolve('src.qcow2'), '1M', 'cluster_size=4096')
        Qemu.io(src, 'write -c -P 0x11 0 4k', 'write -P 0x5a 64k 64k')
        def d = new dev.qcow2.testing.Damage(src)
        dev.qcow2.testing.Damage.putBytes(src, d.u64(d.l2()) & 0xffff_ffffL, ([0xff] * 64) as byte[])
        def ours = dir.resolve('ours.qcow2')
        def theirs = dir.resolve('theirs.qcow2')

        when:
        def run = Cli.run('convert', '-O', 'qcow2', src, ours)
        def ref = Qemu.img(['convert', '-O', 'qcow2', src.toString(), theirs.toString()], false)

        then:
        run.exit == 1 && ref.exit == 1
        run.err.readLines().size() == 1 && run.err.startsWith("qcow2: $src: ")
        !Files.exists(ours)
        Files.exists(theirs)
    }

    def "#kind in a write path reaches the CLI as one line naming the file, exit 1, no stack trace"() {
        given:
        def img = Qemu.create(dir.resolve('img.qcow2'), '1M', 'cluster_size=4096')
        def storage = new FaultyStorage(dev.qcow2.storage.WritableFileStorage.open(img))
        configure(storage)

        when:
        Qcow2Writer.open(storage, img, WriteOptions.defaults()).withCloseable { w ->
            w.write(0, ([1] * 65536) as byte[])
            w.flush()
        }

        then:
        def e = thrown(IOException)

        when:
        def err = new StringWriter()
        def cmd = new CommandLine(CommandLine.Model.CommandSpec.create())
        cmd.err = new PrintWriter(err)
        int exit = new Errors(false).handleExecutionException(e, cmd, null)

        then:
        exit == 1
        err.toString() == "qcow2: $img: $line\n"

        cleanup:
        storage?.close()

        where:
        kind              | configure                          | line
        'EIO at a write'  | { FaultyStorage s -> s.failWriteAt = 1 } | 'write failed: Input/output error (injected at write #1)'
        'ENOSPC'          | { FaultyStorage s -> s.fullAt = 1 }      | 'write failed: No space left on device'
        'EIO at a flush'  | { FaultyStorage s -> s.failFlushAt = 1 } | 'flush failed: Input/output error (injected at flush #1)'
    }

    def "an IOException the system raised without a file name is still one line and exit 1"() {
        given:
        def err = new StringWriter()
        def cmd = new CommandLine(CommandLine.Model.CommandSpec.create())
        cmd.err = new PrintWriter(err)

        expect:
        new Errors(false).handleExecutionException(new IOException('No space left on device'), cmd, null) == 1
        err.toString() == 'qcow2: No space left on device\n'
    }
}
