package dev.qcow2.units

import spock.lang.Specification

/** Sizes derived from cluster_bits, refcount_order and extended L2 (qcow2.rst), and the typed offsets. */
class ClusterGeometrySpec extends Specification {

    def "cluster_bits #bits, extended #ext: cluster #cluster, #l2Entries L2 entries, subcluster #sub, L2 covers #span"() {
        when:
        def geo = new ClusterGeometry(bits, 4, ext)

        then:
        geo.clusterSize() == cluster
        geo.l2EntrySize() == (ext ? 16 : 8)
        geo.l2Entries() == l2Entries
        1 << geo.l2Bits() == l2Entries
        geo.subclusterSize() == sub
        geo.subclustersPerCluster() == (ext ? 32 : 1)
        geo.bytesPerL2Table() == span

        where:
        bits | ext   || cluster | l2Entries | sub     | span
        9    | false || 512     | 64        | 512     | 32768L
        12   | false || 4096    | 512       | 4096    | 2L << 20
        16   | false || 65536   | 8192      | 65536   | 512L << 20
        21   | false || 2 << 20 | 262144    | 2 << 20 | 512L << 30
        14   | true  || 16384   | 1024      | 512     | 16L << 20
        16   | true  || 65536   | 4096      | 2048    | 256L << 20
        21   | true  || 2 << 20 | 131072    | 65536   | 256L << 30
    }

    def "refcount_order #order: #bits-bit refcounts, #entries per block of 64 KiB"() {
        expect:
        new ClusterGeometry(16, order, false).refcountBits() == bits
        new ClusterGeometry(16, order, false).refblockEntries() == entries

        where:
        order | bits || entries
        0     | 1    || 524288
        1     | 2    || 262144
        2     | 4    || 131072
        3     | 8    || 65536
        4     | 16   || 32768
        5     | 32   || 16384
        6     | 64   || 8192
    }

    def "rounding and alignment at 4 KiB clusters: #bytes bytes"() {
        given:
        def geo = new ClusterGeometry(12, 4, false)

        expect:
        geo.clustersCovering(bytes) == clusters
        geo.roundUpToCluster(bytes) == clusters * 4096
        geo.isClusterAligned(bytes) == aligned
        geo.offsetInCluster(bytes) == bytes % 4096

        where:
        bytes               || clusters       | aligned
        0L                  || 0              | true
        1L                  || 1              | false
        4096L               || 1              | true
        4097L               || 2              | false
        (1L << 40) + 1234   || (1L << 28) + 1 | false
    }

    def "out-of-range geometry is refused: cluster_bits #bits, refcount_order #order"() {
        when:
        new ClusterGeometry(bits, order, false)

        then:
        thrown(IllegalArgumentException)

        where:
        bits | order
        8    | 4
        22   | 4
        16   | -1
        16   | 7
    }

    def "guest offset #offset at 64 KiB clusters: L1 #l1, L2 #l2, subcluster #sub (extended)"() {
        given:
        def geo = new ClusterGeometry(16, 4, true)
        def g = GuestOffset.of(offset)

        expect:
        g.l1Index(geo) == l1
        g.l2Index(geo) == l2
        g.subclusterIndex(geo) == sub
        g.guestCluster(geo) == offset >>> 16
        g.offsetInCluster(geo) == offset % 65536

        where:
        offset                     || l1   | l2   | sub
        0L                         || 0    | 0    | 0
        2047L                      || 0    | 0    | 0
        2048L                      || 0    | 0    | 1
        65535L                     || 0    | 0    | 31
        (256L << 20) + 65536 + 4096 || 1   | 1    | 2
        (1L << 40) - 1             || 4095 | 4095 | 31
    }

    def "typed offsets: host cluster arithmetic, alignment, hex toString, negatives refused"() {
        given:
        def geo = new ClusterGeometry(16, 4, false)

        expect:
        HostOffset.of(0x30000).alignedCluster(geo) == Optional.of(new HostCluster(3))
        HostOffset.of(0x30001).alignedCluster(geo) == Optional.empty()
        HostOffset.of(0x3ffff).cluster(geo) == new HostCluster(3)
        new HostCluster(3).offset(geo) == HostOffset.of(0x30000)
        new HostCluster(7).minus(new HostCluster(3)) == 4
        new HostCluster(3).plus(2) == new HostCluster(5)
        HostOffset.of(0x30000).toString() == 'host@0x30000'
        GuestOffset.of(0x1000).toString() == 'guest@0x1000'

        when:
        GuestOffset.of(-1)

        then:
        thrown(IllegalArgumentException)
    }
}
