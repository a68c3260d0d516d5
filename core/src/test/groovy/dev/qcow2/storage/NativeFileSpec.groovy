package dev.qcow2.storage

import spock.lang.Specification
import spock.lang.TempDir

import java.nio.channels.ClosedChannelException
import java.nio.file.Files
import java.nio.file.Path

/**
 * The libc calls (lseek SEEK_DATA/SEEK_HOLE, fstat, fallocate) against their pure-Java
 * fallbacks on the same files; {@code -Dqcow2.native=false} is how the fallback is forced.
 */
class NativeFileSpec extends Specification {
    @TempDir Path dir

    def cleanup() { System.clearProperty('qcow2.native') }

    /** A 1 MiB sparse file with non-zero 4 KiB blocks at the given block numbers. */
    private Path sparse(List<Integer> dataBlocks, List<Integer> zeroBlocks = []) {
        def p = dir.resolve("sparse-${dataBlocks.join('-')}-${zeroBlocks.join('-')}")
        def f = new RandomAccessFile(p.toFile(), 'rw')
        try {
            f.setLength(1 << 20)
            dataBlocks.each { b -> f.seek(b * 4096L); f.write(([0x5a as byte] * 4096) as byte[]) }
            zeroBlocks.each { b -> f.seek(b * 4096L); f.write(new byte[4096]) }
        } finally {
            f.close()
        }
        p
    }

    /** Every run from 0 to the end, as [length, hole] pairs. */
    private static List<List> runs(Storage s) {
        def out = []
        long pos = 0
        while (pos < s.size()) {
            def r = s.hostRun(pos, s.size() - pos)
            out << [r.length(), r.hole()]
            pos += r.length()
        }
        out
    }

    def "libc is bound on this machine"() {
        expect:
        Libc.get().isPresent()
    }

    def "calls made while the prelink thread links them wait for it and answer as without it"() {
        given:
        def p = sparse([1, 7])
        def expected = runs(FileStorage.openReadOnly(p))

        when: 'the thread is started and the first calls race it'
        FileStorage.prelinkNativeCalls()
        def s = FileStorage.openReadOnly(p)

        then:
        runs(s) == expected
        s.allocatedBytes() == FileStorage.openReadOnly(p).allocatedBytes()
    }

    def "lseek finds the same holes as the zero-block fallback (#blocks)"() {
        given:
        def p = sparse(blocks)
        def s = FileStorage.openReadOnly(p)

        when:
        def nativeRuns = runs(s)
        System.setProperty('qcow2.native', 'false')
        def fallbackRuns = runs(s)

        then:
        nativeRuns == expected
        fallbackRuns == expected

        cleanup:
        s.close()

        where:
        blocks       || expected
        [0]          || [[4096, false], [1044480, true]]
        [16, 17, 50] || [[65536, true], [8192, false], [131072, true], [4096, false], [839680, true]]
        [255]        || [[1044480, true], [4096, false]]
        []           || [[1048576, true]]
    }

    def "a run is clipped to the request and to the end of the file"() {
        given:
        def s = FileStorage.openReadOnly(sparse([16, 17]))

        expect:
        s.hostRun(0, 1000) == new HostRun(1000, true)
        s.hostRun(65536 + 100, 1000) == new HostRun(1000, false)
        s.hostRun(65536 + 100, 1 << 30) == new HostRun(8192 - 100, false)
        s.hostRun(1048000, 1 << 30) == new HostRun(576, true)

        cleanup:
        s.close()
    }

    def "written zeros are data to lseek and a hole to the fallback, so the fallback is what runs when forced off"() {
        given:
        def s = FileStorage.openReadOnly(sparse([0], [1]))

        when:
        def nativeRun = s.hostRun(4096, 4096)
        System.setProperty('qcow2.native', 'false')
        def fallbackRun = s.hostRun(4096, 4096)

        then:
        nativeRun == new HostRun(4096, false)
        fallbackRun == new HostRun(4096, true)

        cleanup:
        s.close()
    }

    def "fstat's st_blocks equals stat(1)'s, for read-only and writable storage"() {
        given:
        def p = sparse([3, 9, 200])

        expect:
        AllocatedBytes.statBlocks(p) == 3 * 4096
        FileStorage.openReadOnly(p).withCloseable { it.allocatedBytes() } == AllocatedBytes.statBlocks(p)
        WritableFileStorage.open(p).withCloseable { it.allocatedBytes() } == AllocatedBytes.statBlocks(p)

        when: 'forced off: the same number from stat(1)'
        System.setProperty('qcow2.native', 'false')

        then:
        FileStorage.openReadOnly(p).withCloseable { it.allocatedBytes() } == 3 * 4096
    }

    def "growAllocated reserves zeros: fallocate natively, written zeros as fallback (native: #useNative)"() {
        given:
        def p = sparse([0])
        if (!useNative) System.setProperty('qcow2.native', 'false')

        when:
        def s = WritableFileStorage.open(p)
        s.growAllocated(3 << 20)
        s.close()

        then:
        Files.size(p) == 3 << 20
        AllocatedBytes.statBlocks(p) >= 4096 + (2 << 20)
        FileStorage.openReadOnly(p).withCloseable { it.read(1 << 20, 2 << 20) }.every { it == 0 }

        where:
        useNative << [true, false]
    }

    def "punchHole deallocates natively and keeps the bytes when it cannot (native: #useNative)"() {
        given:
        def p = sparse([0, 1, 2, 3])
        if (!useNative) System.setProperty('qcow2.native', 'false')
        def s = WritableFileStorage.open(p)

        when:
        def punched = s.punchHole(4096, 8192)

        then:
        punched == useNative
        s.size() == 1 << 20
        s.read(4096, 8192).every { it == 0 } == useNative
        s.read(0, 4096).every { it == 0x5a }
        AllocatedBytes.statBlocks(p) == (useNative ? 2 : 4) * 4096

        cleanup:
        s.close()

        where:
        useNative << [true, false]
    }

    def "bad input gets a clear error: #what"() {
        given:
        def p = sparse([0])
        def storage = open.call(p)

        when:
        action.call(storage)

        then:
        def e = thrown(Exception)
        e.class == error
        message == null || e.message == message.replace('PATH', p.toString())

        cleanup:
        storage.close()

        where:
        what                        | open                                                | action                                  || error                          | message
        'negative host offset'      | { Path f -> FileStorage.openReadOnly(f) }         | { Storage st -> st.hostRun(-1, 10) }      || IllegalArgumentException       | 'PATH: no host bytes at offset -1 (10 bytes, file size 1048576)'
        'offset past the end'       | { Path f -> FileStorage.openReadOnly(f) }         | { Storage st -> st.hostRun(1 << 20, 10) } || IllegalArgumentException       | 'PATH: no host bytes at offset 1048576 (10 bytes, file size 1048576)'
        'negative punch offset'     | { Path f -> WritableFileStorage.open(f) }         | { st -> st.punchHole(-4096, 4096) }       || IllegalArgumentException       | 'PATH: no host range at offset -4096 (4096 bytes)'
        'shrinking preallocation'   | { Path f -> WritableFileStorage.open(f) }         | { st -> st.growAllocated(4096) }          || IllegalArgumentException       | 'PATH: cannot preallocate to 4096 bytes, the file already has 1048576'
        'closed read-only storage'  | { Path f -> def r = FileStorage.openReadOnly(f); r.close(); r } | { Storage st -> st.hostRun(0, 10) } || ClosedChannelException | null
        'closed, allocated bytes'   | { Path f -> def r = FileStorage.openReadOnly(f); r.close(); r } | { Storage st -> st.allocatedBytes() } || ClosedChannelException | null
        'closed writable storage'   | { Path f -> def w = WritableFileStorage.open(f); w.close(); w } | { st -> st.punchHole(0, 4096) }     || ClosedChannelException        | null
    }

    def "the native descriptor does not drop the write lock: a second writer is still refused"() {
        given:
        def p = sparse([0])
        def s = WritableFileStorage.open(p)
        s.allocatedBytes()
        s.hostRun(0, 4096)

        when:
        WritableFileStorage.open(p)

        then:
        def e = thrown(dev.qcow2.Qcow2Exception)
        e.message.contains('Failed to get "write" lock')

        cleanup:
        s.close()
    }
}
