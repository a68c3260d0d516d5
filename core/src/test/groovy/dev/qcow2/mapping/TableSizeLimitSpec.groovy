package dev.qcow2.mapping

import dev.qcow2.testing.Sha256

import dev.qcow2.ImageLimitException
import dev.qcow2.amend.AmendOptions
import dev.qcow2.amend.Amender
import dev.qcow2.storage.MemoryStorage
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.file.Files
import java.nio.file.Path

/** A table size read from a damaged image fails with one clear error before anything is allocated or written. */
class TableSizeLimitSpec extends Specification {
    @TempDir Path dir

    def "readTable refuses #entries entries (more than an L1 table may hold, or negative after the cast)"() {
        when:
        ClusterMapper.readTable(new MemoryStorage('img', new byte[512]), 0, entries)

        then:
        def e = thrown(ImageLimitException)
        e.message.startsWith('img: table of ' + Integer.toUnsignedLong(entries) + ' entries')

        where:
        entries << [4 * 1024 * 1024 + 1, Integer.MAX_VALUE, (int) 0x80000000L, -1]
    }

    def "amend compat=0.10 refuses a snapshot whose l1_size is #l1Size before writing anything"() {
        given: 'an image with one snapshot whose l1_size field is damaged'
        Path image = dir.resolve('snap.qcow2')
        Qemu.img('create', '-q', '-f', 'qcow2', image.toString(), '1M')
        Qemu.img('snapshot', '-c', 's1', image.toString())
        byte[] bytes = Files.readAllBytes(image)
        long snapshotTable = ByteBuffer.wrap(bytes).getLong(64)
        ByteBuffer.wrap(bytes).putInt((int) snapshotTable + 8, (int) l1Size)
        Files.write(image, bytes)
        String before = Sha256.of(image)

        when:
        Amender.amend(image, AmendOptions.parse(['compat=0.10']))

        then:
        def e = thrown(ImageLimitException)
        e.message.contains("Snapshot L1 table too large (snapshot 's1')")
        Sha256.of(image) == before

        where:
        l1Size << [0x00400001L, 0x80000000L, 0xffffffffL]
    }
}
