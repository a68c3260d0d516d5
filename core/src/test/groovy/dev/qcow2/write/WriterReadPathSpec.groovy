package dev.qcow2.write

import dev.qcow2.Qcow2Exception
import dev.qcow2.testing.Qemu
import dev.qcow2.units.GuestOffset
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * The writer reads through the read path of read-only images (one mapper, one L2 cache): what
 * it reads before anything is flushed is what qemu-io reads after close, even when the L2
 * tables holding not-yet-written entries have left the cache; its requests take GuestOffsets.
 */
class WriterReadPathSpec extends Specification {
    @TempDir Path dir

    def "entries still pending in #tables evicted L2 tables are read back by the writer (#options)"() {
        given: 'one data cluster in each of more L2 ranges than the writer caches tables, flushed'
        def img = Qemu.create(dir.resolve('t.qcow2'), '16M', options)
        int cs = 512
        long perTable = cs * (cs / 8) as long   // guest bytes one L2 table maps
        def w = Qcow2Writer.open(img, WriteOptions.defaults())
        tables.times { int t -> w.write(GuestOffset.of(t * perTable), Mirror.pattern(t, cs)) }
        w.flush()

        when: 'a second cluster in every range (new entries, held until the next flush), read back before any flush'
        tables.times { int t -> w.write(GuestOffset.of(t * perTable + cs), Mirror.pattern(1000 + t, cs)) }
        def readBack = (0..<tables).collect { int t -> w.read(GuestOffset.of(t * perTable), 2 * cs) }
        w.close()
        byte[] qemu = Qemu.rawBytes(img)

        then:
        (0..<tables).every { int t -> readBack[t] == concat(Mirror.pattern(t, cs), Mirror.pattern(1000 + t, cs)) }
        (0..<tables).every { int t ->
            int at = (int) (t * perTable)
            Arrays.equals(qemu, at, at + 2 * cs, readBack[t], 0, 2 * cs)
        }

        where:
        options                            | tables
        'cluster_size=512'                 | 300
        'cluster_size=512,compat=0.10'     | 260
    }

    def "typed and plain-number requests reach the same bytes; a plain negative offset is the one-line range error"() {
        given:
        def img = Qemu.create(dir.resolve('u.qcow2'), '1M')

        when:
        Qcow2Writer.open(img, WriteOptions.defaults()).withCloseable { w ->
            w.write(GuestOffset.of(4096), Mirror.pattern(1, 8192))
            w.writeZeroes(GuestOffset.of(8192), 1024, false)
            w.write(65536L, Mirror.pattern(2, 100))
            assert w.allocated(GuestOffset.of(4096)) && !w.allocated(GuestOffset.of(131072))
            assert w.read(GuestOffset.of(65536), 100) == w.read(65536L, 100)
        }
        byte[] expected = new byte[1 << 20]
        System.arraycopy(Mirror.pattern(1, 8192), 0, expected, 4096, 8192)
        Arrays.fill(expected, 8192, 9216, (byte) 0)
        System.arraycopy(Mirror.pattern(2, 100), 0, expected, 65536, 100)

        then:
        Qemu.rawBytes(img) == expected

        when:
        Qcow2Writer.open(img, WriteOptions.defaults()).withCloseable { it.write(-512L, new byte[512]) }

        then:
        Qcow2Exception e = thrown()
        e.message == "$img: write of 512 bytes at offset -512 is outside the disk (1048576 bytes)".toString()
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length)
        System.arraycopy(b, 0, out, a.length, b.length)
        out
    }
}
