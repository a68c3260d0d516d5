package dev.qcow2.format

import dev.qcow2.testing.Sha256

import dev.qcow2.storage.FileStorage
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

import static dev.qcow2.testing.Damage.*

/** Qcow2Header.read decodes every field of headers qemu-img writes (qcow2.rst "Header"). */
class HeaderSpec extends Specification {
    @TempDir Path dir

    static Qcow2Header header(Path f) {
        FileStorage.openReadOnly(f).withCloseable { Qcow2Header.read(it) }
    }

    def "#options: fields agree with qemu-img info and the raw bytes"() {
        given:
        Path f = Qemu.create(dir.resolve('h.qcow2'), size, options)
        def info = Qemu.img('info', '--output=json', f.toString()).json()
        String before = Sha256.of(f)

        when:
        Qcow2Header h = header(f)

        then:
        h.version() == version
        h.headerLength() == headerLength
        h.clusterSize() == info['cluster-size']
        h.size() == info['virtual-size']
        h.refcountBits() == (info['format-specific']['data']['refcount-bits'] ?: 16)
        h.compressionTypeName() == info['format-specific']['data']['compression-type']
        h.hasExtendedL2() == (info['format-specific']['data']['extended-l2'] ?: false)
        h.lazyRefcounts() == (info['format-specific']['data']['lazy-refcounts'] ?: false)
        h.l1Size() >= h.l1EntriesNeeded()
        h.l1TableOffset() == getLong(f, L1_TABLE_OFFSET)
        h.refcountTableOffset() == getLong(f, REFCOUNT_TABLE_OFFSET)
        h.refcountTableClusters() == getInt(f, REFCOUNT_TABLE_CLUSTERS)
        h.nbSnapshots() == 0
        h.cryptMethod() == 0
        h.backingFileName() == null
        h.unknownHeaderFields().length == 0
        Sha256.of(f) == before

        where:
        options                                 | size   || version | headerLength
        'compat=0.10'                           | '1M'   || 2       | 72
        'compat=1.1'                            | '1M'   || 3       | 112
        'cluster_size=512,refcount_bits=1'      | '3M'   || 3       | 112
        'cluster_size=2M,refcount_bits=64'      | '100M' || 3       | 112
        'compression_type=zstd'                 | '1M'   || 3       | 112
        'extended_l2=on,cluster_size=128k'      | '1G'   || 3       | 112
        'lazy_refcounts=on'                     | '1T'   || 3       | 112
    }

    def "a backing file name and format are decoded"() {
        given:
        Qemu.create(dir.resolve('base.qcow2'), '1M')
        Path f = Qemu.create(dir.resolve('top.qcow2'), '1M', null, ['-b', 'base.qcow2', '-F', 'qcow2'])

        when:
        Qcow2Header h = header(f)

        then:
        h.backingFileName() == 'base.qcow2'
        h.backingFileSize() == 'base.qcow2'.length()
        h.backingFormat() == Optional.of('qcow2')
    }

    def "header bytes past the known fields are kept verbatim, and the extensions after them still decode"() {
        given: 'header_length 120: 8 unknown bytes at 112, extensions moved 8 bytes on'
        Path f = Qemu.create(dir.resolve('h.qcow2'), '1M')
        byte[] extensions = Files.readAllBytes(f)[112..<4000] as byte[]
        byte[] unknown = [1, 2, 3, 4, 5, 6, 7, 8] as byte[]
        putInt(f, HEADER_LENGTH, 120)
        putBytes(f, 112, unknown)
        putBytes(f, 120, extensions)

        expect: 'qemu-img accepts it'
        Qemu.img('info', f.toString()).exit == 0

        when:
        Qcow2Header h = header(f)

        then:
        h.headerLength() == 120
        h.unknownHeaderFields() == unknown
        h.featureNames().size() == 8
    }
}
