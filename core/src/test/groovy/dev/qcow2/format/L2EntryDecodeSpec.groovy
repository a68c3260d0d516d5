package dev.qcow2.format

import dev.qcow2.units.ClusterGeometry
import spock.lang.Specification

import static dev.qcow2.format.SubclusterType.*

/**
 * L2 entry decoding, bit by bit (qcow2.rst "Cluster mapping", "Compressed Clusters Descriptor",
 * "Extended L2 Entries"). Compressed descriptors: with x = 62 - (cluster_bits - 8), bits 0..x-1
 * are the host offset and bits x..61 the number of additional 512-byte sectors.
 */
class L2EntryDecodeSpec extends Specification {

    def "standard entry #raw (cluster_bits #bits, data file #ext) -> #kind.simpleName"() {
        when:
        def e = L2Entry.decode(raw, 0, new ClusterGeometry(bits, 4, false), ext)

        then:
        kind.isInstance(e)
        e.raw() == raw
        e.subcluster(0) == type
        e.reservedBits() == reserved
        (e instanceof L2Entry.Unallocated) || e.hostOffset() == host
        (e instanceof L2Entry.Unallocated) || e.copied() == copied

        where:
        raw                   | bits | ext   || kind                 | host    | copied | type              | reserved
        0x0L                  | 16   | false || L2Entry.Unallocated  | 0       | false  | UNALLOCATED_PLAIN | 0
        0x8000000000050000L   | 16   | false || L2Entry.Normal       | 0x50000 | true   | NORMAL            | 0
        0x0000000000050000L   | 16   | false || L2Entry.Normal       | 0x50000 | false  | NORMAL            | 0
        0x00ffffffffff0000L   | 16   | false || L2Entry.Normal       | 0xffffffffff0000L | false | NORMAL  | 0
        0x0000000000000200L   | 9    | false || L2Entry.Normal       | 0x200   | false  | NORMAL            | 0
        0x0000000000000001L   | 16   | false || L2Entry.Zero         | 0       | false  | ZERO_PLAIN        | 0
        0x8000000000050001L   | 16   | false || L2Entry.Zero         | 0x50000 | true   | ZERO_ALLOC        | 0
        0x0000000000050001L   | 16   | false || L2Entry.Zero         | 0x50000 | false  | ZERO_ALLOC        | 0
        0x8000000000050002L   | 16   | false || L2Entry.Normal       | 0x50000 | true   | NORMAL            | 0x2
        0x0100000000050000L   | 16   | false || L2Entry.Normal       | 0x50000 | false  | NORMAL            | 0x0100000000000000L
        0x8000000000000000L   | 16   | true  || L2Entry.Normal       | 0       | true   | NORMAL            | 0  // data-file offset 0
        0x8000000000000000L   | 16   | false || L2Entry.Unallocated  | 0       | false  | UNALLOCATED_PLAIN | 0
        0x0L                  | 16   | true  || L2Entry.Unallocated  | 0       | false  | UNALLOCATED_PLAIN | 0
    }

    def "compressed entry #raw at cluster_bits #bits: offset #offset, #sectors sectors, #length bytes to read"() {
        when:
        def e = L2Entry.decode(raw, 0, new ClusterGeometry(bits, 4, false), false)

        then:
        e instanceof L2Entry.Compressed
        with(e as L2Entry.Compressed) {
            hostOffset() == offset
            it.sectors() == sectors
            compressedLength() == length
            copied() == false
            subcluster(0) == COMPRESSED
            lastHostByte() == (offset & ~511L) + sectors * 512L - 1
        }

        where:
        raw                 | bits || offset              | sectors | length
        0x4000000000001000L | 9    || 0x1000              | 1       | 512
        0x6000000000001234L | 9    || 0x1234              | 2       | 1024 - 0x34   // the 1-bit sector field set
        0x440000000005c732L | 12   || 0x5c732             | 2       | 1024 - 0x132  // seen in a zstd 4 KiB image
        0x7fffffffffffffffL | 12   || 0x3ffffffffffffffL  | 16      | 16 * 512 - 511
        0x5400000000050000L | 16   || 0x50000             | 81      | 81 * 512      // seen in a zstd 64 KiB image
        0x40c0000000012345L | 16   || 0x12345             | 4       | 2048 - 0x145
        0x7fc0000000000200L | 16   || 0x200               | 256     | 256 * 512
        0x7fffffffffffffffL | 21   || 0x1ffffffffffffL    | 8192    | 8192 * 512 - 511
        0x4004000000a00000L | 21   || 0xa00000            | 3       | 1536
    }

    def "extended entry #raw / bitmap #bitmap: subclusters #types"() {
        given:
        def geo = new ClusterGeometry(16, 4, true)

        when:
        def e = L2Entry.decode(raw, bitmap, geo, false)

        then:
        kind.isInstance(e)
        e.bitmap() == bitmap || e instanceof L2Entry.Zero
        [0, 1, 2, 31].collect { e.subcluster(it) } == types

        where:
        raw                  | bitmap                 || kind                | types
        0L                   | 0L                     || L2Entry.Unallocated | [UNALLOCATED_PLAIN] * 4
        0L                   | 0xffffffff00000000L    || L2Entry.Unallocated | [ZERO_PLAIN] * 4
        0L                   | (1L << 33)             || L2Entry.Unallocated | [UNALLOCATED_PLAIN, ZERO_PLAIN, UNALLOCATED_PLAIN, UNALLOCATED_PLAIN]
        0L                   | 1L                     || L2Entry.Unallocated | [INVALID] * 4   // alloc bit without a host cluster
        0x8000000000050000L  | 0x00000000ffffffffL    || L2Entry.Normal      | [NORMAL] * 4
        0x8000000000050000L  | 0x0000000200000001L    || L2Entry.Normal      | [NORMAL, ZERO_ALLOC, UNALLOCATED_ALLOC, UNALLOCATED_ALLOC]
        0x8000000000050000L  | 0x8000000080000000L    || L2Entry.Normal      | [INVALID] * 4   // bit 31 both alloc and zero
        0x8000000000050000L  | 0L                     || L2Entry.Normal      | [UNALLOCATED_ALLOC] * 4
        0x8000000000050001L  | 0x0000000000000001L    || L2Entry.Normal      | [NORMAL, UNALLOCATED_ALLOC, UNALLOCATED_ALLOC, UNALLOCATED_ALLOC] // bit 0 is not a zero flag here
        0x4400000000051000L  | 0L                     || L2Entry.Compressed  | [COMPRESSED] * 4
    }

    def "standard entries ignore the bitmap argument and are never subcluster-typed per index"() {
        given:
        def geo = new ClusterGeometry(16, 4, false)

        expect:
        (0..3).every { L2Entry.decode(0x50000L, -1L, geo, false).subcluster(it) == NORMAL }
        L2Entry.decode(0L, -1L, geo, false).subcluster(0) == UNALLOCATED_PLAIN
    }
}
