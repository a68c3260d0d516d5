package dev.qcow2.units

import spock.lang.Specification

import static dev.qcow2.units.SizeSyntax.Problem.*

class SizeSyntaxSpec extends Specification {

    def "#text is #option bytes under every preset"() {
        expect:
        SizeSyntax.QEMU_OPTION.parse(text) == option
        SizeSyntax.QEMU_SIZE_PARAMETER.parse(text) == parameter
        SizeSyntax.DSL.parse(text) == dsl

        where:
        text      | option        | parameter     | dsl
        '0'       | 0             | 0             | 0
        '512'     | 512           | 512           | 512
        ' 64k '   | 65536         | 65536         | 65536
        '64K'     | 65536         | 65536         | 65536
        '1.5M'    | 1572864       | 1572864       | 1572864
        '2G'      | 2L << 30      | 2L << 30      | 2L << 30
        '1T'      | 1L << 40      | 1L << 40      | 1L << 40
        '1P'      | 1L << 50      | 1L << 50      | 1L << 50
        '7E'      | 7L << 60      | 7L << 60      | 7L << 60
        '100b'    | 100           | 100           | 100
        '2.0'     | 2             | 2             | 2
    }

    def "the presets differ where QEMU's callers differ: #text"() {
        expect:
        outcome(SizeSyntax.QEMU_OPTION, text) == option
        outcome(SizeSyntax.QEMU_SIZE_PARAMETER, text) == parameter
        outcome(SizeSyntax.DSL, text) == dsl

        where:
        text        | option       | parameter          | dsl
        '0x10000'   | SYNTAX       | 65536L             | 65536L
        '1.5'       | 1L           | SYNTAX             | NOT_WHOLE
        '0.3k'      | 307L         | 307L               | NOT_WHOLE
        '0.0005k'   | 0L           | 1L                 | NOT_WHOLE
        '4 KiB'     | SYNTAX       | SYNTAX             | 4096L
        '2GB'       | SYNTAX       | SYNTAX             | 2L << 30
        '8E'        | OUT_OF_RANGE | Long.MIN_VALUE     | OUT_OF_RANGE
        '16E'       | OUT_OF_RANGE | OUT_OF_RANGE       | OUT_OF_RANGE
        '1.'        | 1L           | 1L                 | SYNTAX
    }

    def "not sizes: '#text'"() {
        when:
        preset.parse(text)

        then:
        def e = thrown(SizeSyntax.Invalid)
        e.problem() == SYNTAX
        e.message.contains(text)

        where:
        [text, preset] << [['', ' ', '.', 'abc', '1M1', '-1', '1e3', 'k', '1kk', '0x', '1 k', '.5k'],
                           [SizeSyntax.QEMU_OPTION, SizeSyntax.QEMU_SIZE_PARAMETER]].combinations()
    }

    private static Object outcome(SizeSyntax s, String text) {
        try {
            return s.parse(text)
        } catch (SizeSyntax.Invalid e) {
            return e.problem()
        }
    }
}
