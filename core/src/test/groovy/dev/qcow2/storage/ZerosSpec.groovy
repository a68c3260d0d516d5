package dev.qcow2.storage

import spock.lang.Specification

class ZerosSpec extends Specification {
    def "fill(#from, #to) zeroes exactly that range of a #size-byte array"() {
        given:
        byte[] buf = new byte[size]
        Arrays.fill(buf, (byte) 0x5a)

        when:
        Zeros.fill(buf, from, to)

        then:
        (0..<size).every { i -> buf[i] == (i >= from && i < to ? 0 : 0x5a) as byte }

        where:
        size    | from  | to
        16      | 0     | 16
        16      | 3     | 3
        16      | 5     | 11
        200000  | 1     | 199999      // longer than the 64 KiB source of zeros
        131072  | 65536 | 131072
    }

    def "a range outside the array is refused before anything is written"() {
        given:
        byte[] buf = new byte[16]
        Arrays.fill(buf, (byte) 1)

        when:
        Zeros.fill(buf, from, to)

        then:
        thrown(IndexOutOfBoundsException)
        buf.every { it == 1 as byte }

        where:
        from | to
        -1   | 4
        4    | 17
        8    | 4
    }
}
