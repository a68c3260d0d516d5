package dev.qcow2.alloc

import dev.qcow2.storage.MemoryWritableStorage
import dev.qcow2.storage.WritableFileStorage
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.file.Files
import java.nio.file.Path

/** SyncedStorage.writeConcurrently: done on I/O threads, yet seen by every later operation in order. */
class SyncedStorageConcurrentSpec extends Specification {
    @TempDir Path dir

    private static ByteBuffer pattern(int len, int seed) {
        def b = ByteBuffer.allocateDirect(len)
        for (int i = 0; i < len; i++) b.put(i, (byte) (i * 31 + seed))
        b
    }

    def "a long concurrent write of #len bytes is complete and in place once drained, and the buffer is not consumed"() {
        given:
        def path = dir.resolve("f")
        def storage = new SyncedStorage(WritableFileStorage.create(path))
        def src = pattern(len, 7)

        when:
        storage.writeConcurrently(4096, src)
        def readBack = storage.read(4096, len)   // read waits for the writes in flight
        storage.flush()
        storage.close()
        storage.raw().close()

        then:
        src.position() == 0
        readBack == bytes(src)
        Files.readAllBytes(path)[4096..<(4096 + len)] as byte[] == bytes(src)

        where:
        len << [100, 64 << 10, 1 << 20, (4 << 20) + 4096, 3 * (1 << 20) + 12345]
    }

    def "a queued metadata record overlapped by a concurrent write does not undo it at flush"() {
        given:
        def path = dir.resolve("g")
        def storage = new SyncedStorage(WritableFileStorage.create(path))
        storage.writeBack(8192, new byte[16] as byte[], 0, 16)
        def src = pattern(2 << 20, 3)

        when:
        storage.writeConcurrently(0, src)
        storage.flush()
        storage.close()
        storage.raw().close()

        then:
        Files.readAllBytes(path) == bytes(src)
    }

    def "storage without concurrent writes is written at once, as a plain write"() {
        given:
        def mem = new MemoryWritableStorage("mem")
        def storage = new SyncedStorage(mem)
        def src = pattern(2 << 20, 5)

        when:
        storage.writeConcurrently(0, src)

        then:
        mem.read(0, 2 << 20) == bytes(src)
        src.position() == 0
    }

    private static byte[] bytes(ByteBuffer b) {
        def out = new byte[b.remaining()]
        b.duplicate().get(out)
        out
    }
}
