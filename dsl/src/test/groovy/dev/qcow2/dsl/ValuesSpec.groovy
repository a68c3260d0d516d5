package dev.qcow2.dsl

import groovy.json.JsonSlurper
import spock.lang.Specification

/** Result values: tables, records and hexdumps as text, HTML and JSON, and as Groovy collections. */
class ValuesSpec extends Specification {
    static Table sample() {
        Table.of('sample', [Column.hex('offset'), Column.bytes('length'), Column.plain('kind')])
                .add(0x10000L, 65536L, 'normal')
                .add(0x2a0000L, 512L, 'compressed')
                .build()
    }

    def "a table renders as aligned text: header, rule, hex offsets, right-aligned numbers"() {
        expect:
        sample().toString() == '''\
  offset  length (bytes)  kind
--------  --------------  ----------
 0x10000           65536  normal
0x2a0000             512  compressed
'''
    }

    def "a table renders as HTML with a header row and hex offsets"() {
        when:
        def html = sample().toHtml()

        then:
        html.startsWith('<table class="qcow2"><caption>sample (2 rows)</caption><thead><tr><th>offset</th><th>length (bytes)</th><th>kind</th></tr></thead>')
        html.contains('<td style="text-align:right">0x2a0000</td>')
        html.endsWith('</tbody></table>')
    }

    def "JSON keeps raw numbers"() {
        expect:
        new JsonSlurper().parseText(sample().toJson()) == [[offset: 65536, length: 65536, kind: 'normal'],
                                                           [offset: 0x2a0000, length: 512, kind: 'compressed']]
    }

    def "rows iterate with Groovy property access; findAll and sort give tables back"() {
        given:
        def t = sample()

        expect:
        t.size() == 2
        t*.kind == ['normal', 'compressed']
        t.findAll { it.kind == 'compressed' } instanceof Table
        t.findAll { it.length < 1000 }*.offset == [0x2a0000L]
        t.sort { -it.offset }[0].kind == 'compressed'
        t.collect { it.length }.sum() == 66048L
        t.column('kind') == ['normal', 'compressed']
    }

    def "a misspelt column is an error that lists the columns, not a silent null"() {
        when:
        sample().findAll { it.compresed }

        then:
        def e = thrown(DslException)
        e.message == "no column 'compresed'; columns: offset, length, kind"
    }

    def "a row compared with any map answers true or false, whichever side it is on"() {
        given:
        def row = sample()[0]
        def same = [offset: row.offset, length: row.length, kind: row.kind]
        def other = [offset: row.offset, length: row.length, size: 1]

        expect:
        row == same && same == row
        !(row == other) && !(other == row)
        !row.equals(other) && !other.equals(row)
        !(row == [a: 1])
        ![other].contains(row) && ![row].contains(other)
        [same].contains(row) && [row].toSet().contains(same)
    }

    def "a misspelt column is an error by index too: #access"() {
        when:
        access(sample()[0])

        then:
        def e = thrown(DslException)
        e.message == "no column 'kinds'; columns: offset, length, kind"

        where:
        access << [{ it.kinds }, { it['kinds'] }]
    }

    def "without drops fields by name and refuses names the record does not have"() {
        given:
        def r = new Record('info x', [file: '/tmp/x', size: 1L, dirty: false])

        expect:
        r.without('file').fields == [size: 1L, dirty: false]
        r.without('file', 'dirty').title == 'info x'

        when:
        r.without('fiel')

        then:
        def e = thrown(DslException)
        e.message == "no field 'fiel' in info x; fields: file, size, dirty"
    }

    def "text output stops after maxTextRows and says how many rows there are"() {
        given:
        def b = Table.of('many', [Column.plain('n')])
        (1..12).each { b.add(it) }
        def old = Table.maxTextRows
        Table.maxTextRows = 10

        expect:
        b.build().toString().readLines()[-1] == '… 2 more rows (12 in all)'

        cleanup:
        Table.maxTextRows = old
    }

    def "a record shows name: value lines, hex and human sizes; unknown fields are errors"() {
        given:
        def r = new Record('info', [file: 'd.qcow2', virtual_size: 4194304L, l1_table_offset: 0x30000L],
                [virtual_size: Column.Unit.BYTES, l1_table_offset: Column.Unit.HEX])

        expect:
        r.toString() == '''\
file:            d.qcow2
virtual_size:    4194304 (4 MiB)
l1_table_offset: 0x30000
'''
        r.virtual_size == 4194304L
        new JsonSlurper().parseText(r.toJson()) == [file: 'd.qcow2', virtual_size: 4194304, l1_table_offset: 0x30000]
        r.toHtml().contains('<th style="text-align:left">l1_table_offset</th><td>0x30000</td>')

        when:
        r.size

        then:
        def e = thrown(DslException)
        e.message == "no field 'size' in info; fields: file, virtual_size, l1_table_offset"
    }

    def "a hexdump shows offsets in its space, collapses repeated lines, and keeps the bytes"() {
        given:
        byte[] b = new byte[64]
        'QFI\u00fb'.getBytes('ISO-8859-1').eachWithIndex { byte x, int i -> b[i] = x }

        when:
        def h = new Hexdump('host', 0x10000, b)

        then:
        h.toString() == '''\
host 0x10000 +64
00010000  51 46 49 fb 00 00 00 00  00 00 00 00 00 00 00 00  |QFI.............|
00010010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|
*
00010030  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|
'''
        h[3] == 0xfb
        h.size() == 64
        new JsonSlurper().parseText(h.toJson()).hex.startsWith('514649fb00')
        h.toHtml().startsWith('<pre class="qcow2-hexdump">host 0x10000 +64')
    }

    def "sizes: #text is #bytes bytes"() {
        expect:
        Sizes.parse(text) == bytes

        where:
        text       | bytes
        512        | 512L
        0x10000    | 65536L
        '64k'      | 65536L
        '64K'      | 65536L
        '1M'       | 1048576L
        '1.5M'     | 1572864L
        '2G'       | 2147483648L
        '0x50000'  | 0x50000L
        '4 KiB'    | 4096L
    }

    def "bad sizes are one-line errors: #text"() {
        when:
        Sizes.parse(text)

        then:
        def e = thrown(DslException)
        e.message == message

        where:
        text     | message
        'lots'   | "bad size 'lots': use a number, 0x… or a size like 512, 64k, 1M, 2G"
        -1       | 'size must not be negative: -1'
        '0.3k'   | "size '0.3k' is not a whole number of bytes"
        '9E'     | "size '9E' is too large"
        1.5      | "size '1.5' is not a whole number of bytes"
    }
}
