package dev.qcow2.format

import dev.qcow2.units.ClusterGeometry
import spock.lang.Specification

import java.nio.ByteBuffer

/** The OFLAG_COPIED rule: which entries it governs, and one L2 table evaluated against refcounts. */
class CopiedRuleSpec extends Specification {
    static final ClusterGeometry STD = new ClusterGeometry(16, 4, false)
    static final ClusterGeometry EXT = new ClusterGeometry(16, 4, true)
    static final long C = L2Entry.COPIED

    // bits are combined with + in the tables (| separates columns)
    def "governs(raw) agrees with governs(decode(raw)): #raw (extended #geo.extendedL2(), data file #dataFile)"() {
        expect:
        CopiedRule.governs(raw, geo, dataFile) == CopiedRule.governs(L2Entry.decode(raw, 0, geo, dataFile))
        CopiedRule.governs(raw, geo, dataFile) == governed

        where:
        raw                          | geo | dataFile | governed
        0L                           | STD | false    | false
        0x10000L                     | STD | false    | true      // normal
        (0x10000L + C)               | STD | false    | true
        1L                           | STD | false    | false     // zero, no cluster
        (0x10000L + 1L)              | STD | false    | true      // preallocated zero
        (0x10000L + 1L)              | EXT | false    | true      // extended L2: the zero bit is no zero flag
        (L2Entry.COMPRESSED + 0x10200L) | STD | false | false
        C                            | STD | true     | true      // data file: offset 0, refcount 1
        C                            | STD | false    | false
        0L                           | STD | true     | false
    }

    def "scanL2 reports the governed entries whose bit disagrees with the refcount; with alsoUngoverned it clears the rest"() {
        given: 'slots: normal rc 1 without bit, normal rc 2 with bit, compressed with bit, normal rc 1 with bit'
        def table = ByteBuffer.allocate(STD.clusterSize())
        table.putLong(0, 0x10000L).putLong(8, 0x20000L | C).putLong(16, L2Entry.COMPRESSED | C | 0x30000L).putLong(24, 0x40000L | C)
        def refcounts = [(0x10000L): 1L, (0x20000L): 2L, (0x40000L): 1L]
        def found = []

        when:
        CopiedRule.scanL2(table, 0x50000L, STD, false, alsoUngoverned, { long host, long at -> refcounts[host] } as CopiedRule.Refcounts,
                { int j, long raw, long wanted, long rc -> found << [j, wanted, rc] } as CopiedRule.Mismatch)

        then:
        found == expected

        where:
        alsoUngoverned | expected
        false          | [[0, (0x10000L + C), 1L], [1, 0x20000L, 2L]]
        true           | [[0, (0x10000L + C), 1L], [1, 0x20000L, 2L], [2, (L2Entry.COMPRESSED + 0x30000L), -1L]]
    }
}
