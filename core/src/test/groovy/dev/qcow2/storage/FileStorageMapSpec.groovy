package dev.qcow2.storage

import dev.qcow2.CorruptImageException
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** Read-only mappings of a file: only inside the file, the file's own bytes, released promptly. */
class FileStorageMapSpec extends Specification {
    @TempDir Path dir

    def "a range inside the file maps to its bytes; #what is not mapped"() {
        given:
        byte[] bytes = new byte[10000]
        new Random(1).nextBytes(bytes)
        def file = dir.resolve('f.raw')
        Files.write(file, bytes)
        def storage = FileStorage.openReadOnly(file)

        when:
        def mapped = storage.map(offset, length)

        then:
        mapped.isPresent() == inside
        if (inside) {
            byte[] got = new byte[length]
            mapped.get().get(0, got)
            assert got == Arrays.copyOfRange(bytes, (int) offset, (int) offset + length)
            assert mapped.get().isReadOnly()
            Mappings.unmap(mapped.get())
        }

        cleanup:
        storage?.close()

        where:
        what                 | offset | length || inside
        'the whole file'     | 0      | 10000  || true
        'a middle range'     | 4096   | 1234   || true
        'a range past EOF'   | 8192   | 4096   || false
        'a range beyond EOF' | 20000  | 10     || false
    }

    def "a negative or overflowing offset is refused as corruption, not an IllegalArgumentException"() {
        given:
        def file = dir.resolve('f.raw')
        Files.write(file, new byte[100])
        def storage = FileStorage.openReadOnly(file)

        when:
        storage.map(offset, 10)

        then:
        thrown(CorruptImageException)

        cleanup:
        storage?.close()

        where:
        offset << [-1L, Long.MAX_VALUE - 5]
    }

    def "the JDK's cleaner is reachable, so mappings are released at once"() {
        expect:
        Mappings.promptRelease()
    }

    def "thousands of mappings released one by one never pile up"() {
        given: 'more mappings than fit in a small share of vm.max_map_count if none were released'
        def file = dir.resolve('f.raw')
        Files.write(file, new byte[65536])
        def storage = FileStorage.openReadOnly(file)
        int before = Files.readAllLines(Path.of('/proc/self/maps')).size()

        when:
        20000.times {
            def m = storage.map(0, 65536).get()
            m.get(100)
            Mappings.unmap(m)
        }
        int after = Files.readAllLines(Path.of('/proc/self/maps')).size()

        then:
        after - before < 100

        cleanup:
        storage?.close()
    }
}
