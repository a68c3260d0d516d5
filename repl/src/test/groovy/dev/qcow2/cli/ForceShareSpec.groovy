package dev.qcow2.cli

import dev.qcow2.storage.WritableFileStorage
import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * Read-only commands beside a writer, as qemu-img: without -U they are refused with qemu-img's
 * "Failed to get shared "write" lock" while qemu-io (or a writer of ours) holds the image; with
 * -U / --force-share they read. qemu-img's own verdict is asserted beside ours.
 */
class ForceShareSpec extends Specification {
    @Shared Path dir = Files.createTempDirectory('forceshare')
    @Shared Path img
    @Shared Process qemu

    def setupSpec() {
        img = Qemu.create(dir.resolve('busy.qcow2'), '1M', 'cluster_size=4096')
        Qemu.io(img, 'write -P 0x5a 0 4k')
        qemu = Qemu.holdForWriting(img, 600_000)
    }

    def cleanupSpec() {
        qemu?.destroy()
        qemu?.waitFor(30, TimeUnit.SECONDS)
        dir.toFile().deleteDir()
    }

    def "qcow2 #command beside qemu-io's writer: refused as qemu-img, and reads with -U"() {
        given:
        def args = command.split(' ').collect { it == 'IMG' ? img.toString() : it == 'OUT' ? dir.resolve('out.raw').toString() : it }

        when:
        def ours = Cli.run(args)
        def theirs = Qemu.img(args, false)

        then: 'refused with the words qemu-img uses'
        ours.exit != 0
        ours.exit == theirs.exit
        ours.err == "qcow2: $img: Failed to get shared \"write\" lock; is another process using the image [$img]?\n"
        theirs.err.contains("Failed to get shared \"write\" lock\nIs another process using the image [$img]?")

        when:
        def shared = Cli.run(args[0..0] + ['-U'] + args.drop(1))

        then:
        shared.exit == 0

        where:
        command << ['info IMG', 'check IMG', 'map IMG', 'convert -O raw IMG OUT', 'compare IMG IMG', 'measure -O qcow2 IMG', 'snapshot -l IMG']
    }

    def "a writer of ours in this process also keeps qcow2 info out without -U"() {
        given:
        def mine = Qemu.create(dir.resolve('mine.qcow2'), '1M', 'cluster_size=4096')
        def held = WritableFileStorage.open(mine)

        when:
        def ours = Cli.run('info', mine)
        def shared = Cli.run('info', '-U', mine)

        then:
        ours.exit == 1
        ours.err == "qcow2: $mine: Failed to get shared \"write\" lock; is another process using the image [$mine]?\n"
        shared.exit == 0

        when: 'the writer closes'
        held.close()

        then:
        Cli.run('info', mine).exit == 0
    }
}
