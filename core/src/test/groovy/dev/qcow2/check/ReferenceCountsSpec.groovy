package dev.qcow2.check

import spock.lang.Specification

/** The in-memory refcount table saturates at refcount_max of the image's width and grows past the file end. */
class ReferenceCountsSpec extends Specification {

    def "with #bits-bit refcounts a counter stops at #max"() {
        given:
        def counts = new ReferenceCounts(order, 4)

        when:
        int accepted = 0
        for (int i = 0; i < Math.min(max + 2, 70_000); i++) if (counts.increment(1)) accepted++

        then:
        counts.get(1) == Math.min(max, 70_000)
        accepted == Math.min(max, 70_000)
        counts.get(0) == 0

        where:
        order | bits | max
        0     | 1    | 1
        1     | 2    | 3
        3     | 8    | 255
        4     | 16   | 65535
        5     | 32   | 4294967295L
    }

    def "a reference just past the covered clusters grows the table by exactly what is needed"() {
        given:
        def counts = new ReferenceCounts(4, 10)

        when:
        counts.increment(10)

        then:
        counts.size() == 11
        counts.get(10) == 1
        counts.get(11) == 0
    }

    def "a million clusters cost two bytes each with 16-bit refcounts"() {
        when:
        def counts = new ReferenceCounts(4, 1_200_000)
        (0..<1_200_000).each { counts.increment(it) }

        then:
        counts.size() == 1_200_000
        counts.get(1_199_999) == 1
        counts.@narrow.length == 1_200_000
    }
}
