package dev.qcow2.storage

import dev.qcow2.Qcow2Exception
import dev.qcow2.image.Qcow2Image
import dev.qcow2.testing.Qemu
import dev.qcow2.units.GuestOffset
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * Two writers on one image: the second is refused by the lock, with qemu-img's words, in both
 * directions (we take QEMU's OFD byte locks, ImageLock); qemu-img's readers that do not share
 * "write" (qemu-img info without -U) are refused beside our writer as beside qemu's; readers with
 * force-share (qemu-io -U -r, qemu-img info -U) and our read-only opens read beside a writer.
 */
class WriteLockSpec extends Specification {
    @TempDir Path dir

    def "while we hold an image for writing, #tool is #outcome"() {
        given:
        def img = Qemu.create(dir.resolve('held.qcow2'), '1M', 'cluster_size=4096')
        Qemu.io(img, 'write -P 0x5a 0 4k')

        when:
        def held = WritableFileStorage.open(img)
        def run = Qemu.run(command.collect { it == 'IMG' ? img.toString() : it })

        then:
        if (error) {
            assert run.exit != 0
            // qemu's own words, exactly as when a qemu process holds the image
            String opening = command[0] == 'qemu-io' ? "qemu-io: can't open device $img: " : "qemu-img: Could not open '$img': "
            assert run.err == "$opening$error\nIs another process using the image [$img]?\n"
        } else {
            assert run.exit == 0 && !run.err
            assert run.out.contains(expected)
        }

        cleanup:
        held?.close()

        where:
        tool                          | command                                                   || outcome                      | error                               | expected
        'a qemu-io writer'            | ['qemu-io', '-f', 'qcow2', '-c', 'read 0 512', 'IMG']     || 'refused'                    | 'Failed to get "write" lock'        | null
        'qemu-img info (no -U)'       | ['qemu-img', 'info', 'IMG']                               || 'refused'                    | 'Failed to get shared "write" lock' | null
        'qemu-img info -U'            | ['qemu-img', 'info', '-U', 'IMG']                         || 'let read'                   | null                                | 'file format: qcow2'
        'a qemu-io -U -r reader'      | ['qemu-io', '-U', '-r', '-f', 'qcow2', '-c', 'read -P 0x5a 0 4k', 'IMG'] || 'let read' | null                          | 'read 4096/4096 bytes'
    }

    def "a second writer of ours is refused with qemu's words while the first holds the image"() {
        given:
        def img = Qemu.create(dir.resolve('twice.qcow2'), '1M', 'cluster_size=4096')
        def first = WritableFileStorage.open(img)

        when:
        WritableFileStorage.open(img)

        then:
        def e = thrown(Qcow2Exception)
        e.message == "$img: Failed to get \"write\" lock; is another process using the image [$img]?"

        when: 'the first closes'
        first.close()
        def second = WritableFileStorage.open(img)

        then: 'the lock went with it'
        second != null

        cleanup:
        second?.close()
    }

    def "while qemu-io holds an image for writing, our writer is refused with qemu's words and our reader reads"() {
        given:
        def img = Qemu.create(dir.resolve('busy.qcow2'), '1M', 'cluster_size=4096')
        Qemu.io(img, 'write -P 0x5a 0 4k')
        def qemu = Qemu.holdForWriting(img)

        when:
        WritableFileStorage.open(img)

        then:
        def e = thrown(Qcow2Exception)
        e.message == "$img: Failed to get \"write\" lock; is another process using the image [$img]?"
        !e.message.contains('\n')

        and: 'a read-only open takes no lock and reads'
        def image = Qcow2Image.open(img)
        byte[] buf = new byte[4096]
        image.read(GuestOffset.of(0), buf, 0, buf.length)
        buf.every { it == 0x5a as byte }

        cleanup:
        image?.close()
        qemu?.destroy()
        qemu?.waitFor(30, TimeUnit.SECONDS)
    }
}
