package dev.qcow2.create

import dev.qcow2.testing.Sha256

import dev.qcow2.storage.MemoryWritableStorage
import dev.qcow2.storage.WritableStorage
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.file.Files
import java.nio.file.Path

/**
 * A crash at any point of writing a new image leaves either a file that is not a qcow2 image
 * (no magic) or the complete image: the header, with the magic, is the last write.
 */
class CreateCrashSpec extends Specification {
    @TempDir Path dir

    /** Storage that loses every write (and length change) after the first {@code survive} operations, as a crash would. */
    static class CrashingStorage implements WritableStorage {
        @Delegate(excludes = ['write', 'setLength', 'flush']) final MemoryWritableStorage inner = new MemoryWritableStorage('crash')
        int survive
        int done

        @Override void write(long offset, ByteBuffer src) { if (done++ < survive) inner.write(offset, src) else src.position(src.limit()) }

        @Override void setLength(long length) { if (done++ < survive) inner.setLength(length) }

        @Override void flush() { }
    }

    static int operations(QemuLayout.Layout layout) {
        def counter = new CrashingStorage(survive: Integer.MAX_VALUE)
        ImageCreator.write(counter, layout)
        counter.done
    }

    def "a crash after any write of #options leaves no image or a clean one"() {
        given:
        def layout = QemuLayout.plan(CreateOptions.parse(options))
        int total = operations(layout)

        expect:
        (0..total).every { int n ->
            def s = new CrashingStorage(survive: n)
            ImageCreator.write(s, layout)
            byte[] bytes = s.inner.toByteArray()
            boolean isQcow2 = bytes.length >= 4 && ByteBuffer.wrap(bytes, 0, 4).getInt() == dev.qcow2.format.Qcow2Header.MAGIC
            if (n < total) return !isQcow2
            def file = dir.resolve("crash-${n}.qcow2")
            Files.write(file, bytes)
            isQcow2 && Qemu.img(['check', file.toString()], false).exit == 0
        }

        where:
        options << ['size=4M', 'size=16M,cluster_size=512,refcount_bits=64,preallocation=metadata',
                    'size=3M,preallocation=falloc,cluster_size=4k', 'size=1M,compat=0.10,preallocation=full']
    }

    def "an image another writer holds is refused, not truncated"() {
        given:
        def image = Qemu.create(dir.resolve('busy.qcow2'), '1M')
        def before = Sha256.of(image)
        def holder = dev.qcow2.storage.WritableFileStorage.open(image)

        when:
        ImageCreator.create(image, new OptionList().add('size=2M'), false)

        then:
        def e = thrown(IOException)
        e.message.contains('lock')
        Sha256.of(image) == before

        cleanup:
        holder?.close()
    }
}
