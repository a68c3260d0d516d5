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
 * Two writers on one image: the second is refused by the lock (QEMU's OFD byte locks and our
 * whole-file fcntl lock conflict in both directions), with qemu-img's words; a read-only open
 * beside a writer (qemu-io -U -r, our read-only open) reads without taking the lock.
 */
class WriteLockSpec extends Specification {
    @TempDir Path dir

    /*
     * Not yet as QEMU: our lock is one fcntl lock over the whole file, so while we write, qemu's
     * -U readers that take its shared byte-100 lock (qemu-io -U -r, qemu-img convert -U) are
     * refused too ("Failed to lock byte 100"); only lock-free opens such as qemu-img info -U pass.
     * Locking QEMU's permission bytes (OFD locks at 100+ and 200+) instead would let them read.
     */
    def "while we hold an image for writing, qemu-io cannot open it for writing; qemu-img info -U reads it"() {
        given:
        def img = Qemu.create(dir.resolve('held.qcow2'), '1M', 'cluster_size=4096')
        Qemu.io(img, 'write -P 0x5a 0 4k')

        when:
        def held = WritableFileStorage.open(img)
        def writer = ['qemu-io', '-f', 'qcow2', '-c', 'read 0 512', img.toString()].execute()
        writer.waitFor(60, TimeUnit.SECONDS)
        String writerErr = writer.err.text
        def reader = ['qemu-img', 'info', '-U', img.toString()].execute()
        reader.waitFor(60, TimeUnit.SECONDS)

        then:
        writer.exitValue() != 0
        // our lock is one fcntl lock over the whole file, so qemu's first OFD byte lock (byte 100)
        // already conflicts: qemu reports that instead of its per-permission message
        writerErr.contains("can't open device $img: Failed to lock byte 100")
        reader.exitValue() == 0
        reader.text.contains('file format: qcow2')

        cleanup:
        held?.close()
    }

    def "while qemu-io holds an image for writing, our writer is refused with qemu's words and our reader reads"() {
        given:
        def img = Qemu.create(dir.resolve('busy.qcow2'), '1M', 'cluster_size=4096')
        Qemu.io(img, 'write -P 0x5a 0 4k')
        def qemu = ['qemu-io', '-f', 'qcow2', '-c', 'sleep 60000', img.toString()].execute()
        waitUntilLocked(img)

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

    /** qemu-io takes its lock after start-up; poll with qemu-img info until the lock is seen. */
    private static void waitUntilLocked(Path img) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
        while (System.nanoTime() < deadline) {
            def info = ['qemu-img', 'info', img.toString()].execute()
            info.waitFor()
            if (info.err.text.contains('lock')) return
            Thread.sleep(100)
        }
        throw new AssertionError("qemu-io did not lock $img")
    }
}
