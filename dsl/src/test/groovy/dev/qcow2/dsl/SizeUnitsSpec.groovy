package dev.qcow2.dsl

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/** Sizes as numbers with a unit (64.KiB, 1.5.MiB) wherever the DSL takes a size, equal to the quoted forms. */
class SizeUnitsSpec extends Specification {
    @TempDir Path dir

    def "#code is #bytes bytes, as '#quoted' is"() {
        given:
        def shell = new DslShell()

        expect:
        shell.evaluate(code) == bytes
        Sizes.parse(quoted) == bytes

        where:
        code        | quoted     | bytes
        '512.B'     | '512'      | 512L
        '64.KiB'    | '64k'      | 65536L
        '1.5.MiB'   | '1.5M'     | 1572864L
        '2.GiB'     | '2G'       | 2147483648L
        '0.5.KiB'   | '0.5k'     | 512L
        '3.TiB'     | '3T'       | 3298534883328L
        '1.PiB'     | '1P'       | 1125899906842624L
        '7.EiB'     | '7E'       | 8070450532247928832L
        '0x10.KiB'  | '16k'      | 16384L
        '1.25d.MiB' | '1.25M'    | 1310720L
        '0.KiB'     | '0'        | 0L
    }

    def "bad sizes give one line: #code"() {
        given:
        def shell = new DslShell()

        when:
        shell.evaluate(code)

        then:
        def e = thrown(DslException)
        e.message == message

        where:
        code                   | message
        '(-1).KiB'             | 'size -1 KiB must not be negative'
        '(-0.5).MiB'           | 'size -0.5 MiB must not be negative'
        '8.EiB'                | "size '8 EiB' is too large"
        '16000000.TiB'         | "size '16000000 TiB' is too large"
        '0.3.KiB'              | "size '0.3 KiB' is not a whole number of bytes"
        '1.5.B'                | "size '1.5 B' is not a whole number of bytes"
        '(0.0d / 0).KiB'       | 'size NaN KiB is not a number of bytes'
        'zero 0, -(64.KiB)'    | "no image open — use open 'file.qcow2'"
    }

    def "a decimal number is a size when it is whole: #value"() {
        when:
        def result = null
        def error = null
        try { result = Sizes.parse(value, 'length') } catch (DslException e) { error = e.message }

        then:
        result == bytes
        error == message

        where:
        value                 | bytes    | message
        1.5 * 1024            | 1536L    | null
        2.0                   | 2L       | null
        0.5                   | null     | "length '0.5' is not a whole number of bytes"
        -1.5 * 1024           | null     | 'length must not be negative: -1536'
        new BigDecimal('1e19')| null     | "length '10000000000000000000' is too large"
    }

    def "a negative size reaching a command is refused by the command, before the image is touched"() {
        given:
        def img = Fixtures.mixed(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img', writable: true")

        when:
        shell.evaluate('zero 0, -(64.KiB)')

        then:
        def e = thrown(DslException)
        e.message == 'length must not be negative: -65536'

        cleanup:
        shell?.close()
    }

    def "every command that takes a size takes the unit words: #code"() {
        given:
        def img = Fixtures.mixed(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img', writable: true")

        expect:
        shell.evaluate(code).toString() == shell.evaluate(quoted).toString()

        cleanup:
        shell?.close()

        where:
        code                                  | quoted
        'read 3.KiB, 16.B'                    | "read '3k', 16"
        'read 3.KiB + 16, 6'                  | "read '0xc10', '6'"
        'cluster 3.B'                         | 'cluster 3'
        'read 0.5.MiB, 32, host: true'        | "read '512k', 32, host: true"
        'walk l2, at: 1.MiB - 64.KiB'         | "walk l2, at: '960k'"
        'zero 64.KiB, 64.KiB'                 | "zero '64k', '64k'"
        'discard 128.KiB, 64.KiB'             | "discard '128K', '64 KiB'"
    }

    def "a zero written with unit words is what qemu-io sees"() {
        given:
        def img = Fixtures.mixed(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img', writable: true")

        when:
        shell.evaluate('zero 0, 0.125.MiB')
        shell.close()

        then:
        Qemu.io(img, 'read -P 0 0 131072').exit == 0
    }

    def "outside the DSL's evaluation the words do not exist (Number is not changed for the JVM)"() {
        when:
        64.KiB

        then:
        thrown(MissingPropertyException)
    }
}
