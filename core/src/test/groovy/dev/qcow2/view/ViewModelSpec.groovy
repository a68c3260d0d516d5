package dev.qcow2.view

import spock.lang.Specification

/** The view model's own rules: typed JSON records, cells formatted by unit, one row shape. */
class ViewModelSpec extends Specification {
    private static TableView sample() {
        TableView.of('l2-entry', 'sample', [Column.plain('l2_index'), Column.hex('raw'), Column.bytes('compressed_bytes')])
                .add(0L, 0x8000_0000_0005_0000L, null)
                .add(1L, 0x4000_0000_0006_0000L, 512L)
                .build()
    }

    def "JSON rows start with the table's type and carry every column, null where empty"() {
        expect:
        JsonShape.rows(sample()) == [[type: 'l2-entry', l2_index: 0L, raw: 0x8000_0000_0005_0000L, compressed_bytes: null],
                                     [type: 'l2-entry', l2_index: 1L, raw: 0x4000_0000_0006_0000L, compressed_bytes: 512L]]
        (JsonShape.rows(sample())*.keySet()*.toList()).every { it == ['type', 'l2_index', 'raw', 'compressed_bytes'] }
    }

    def "a #what called 'type' is refused: it would shadow the record type"() {
        when:
        make()

        then:
        def e = thrown(IllegalArgumentException)
        e.message.contains("may not be called 'type'")

        where:
        what     | make
        'column' | { -> TableView.of('finding', 't', [Column.plain('type')]).build() }
        'field'  | { -> new RecordView('check', 'r', [type: 'x'], [:]) }
    }

    def "cells: #unit #value shows as '#shown' in a table and '#inRecord' in a record"() {
        expect:
        Cells.inTable(unit, value) == shown
        Cells.inRecord(unit, value) == inRecord

        where:
        unit       | value                  || shown                  | inRecord
        Unit.HEX   | 0x50000L               || '0x50000'              | '0x50000'
        Unit.HEX   | 0x8000_0000_0005_0000L || '0x8000000000050000'   | '0x8000000000050000'
        Unit.BYTES | 4194304L               || '4194304'              | '4194304 (4 MiB)'
        Unit.BYTES | 1000L                  || '1000'                 | '1000'
        Unit.BYTES | 1572864L               || '1572864'              | '1572864 (1.5 MiB)'
        Unit.PLAIN | null                   || ''                     | ''
        Unit.PLAIN | ['a', 'b']             || 'a, b'                 | 'a, b'
        Unit.PLAIN | true                   || 'true'                 | 'true'
    }

    def "text: header with units, a rule, numbers right-aligned, empty cells blank; every row unless limited"() {
        expect:
        TextRender.table(sample()) == '''\
l2_index                 raw  compressed_bytes (bytes)
--------  ------------------  ------------------------
0         0x8000000000050000
1         0x4000000000060000                       512
'''
        TextRender.table(sample(), 1).endsWith('… 1 more rows (2 in all)\n')
        TextRender.table(TableView.of('x', 't', [Column.plain('a')]).build()).endsWith('(no rows)\n')
    }

    def "a record's text and HTML show a nested table below its field"() {
        given:
        def r = new RecordView('check-result', 'check', [clean: false, findings: sample()], [:])

        expect:
        TextRender.record(r).startsWith('clean:    false\nfindings:\n  l2_index  ')
        HtmlRender.record(r).contains('<th style="text-align:left">findings</th><td><table class="qcow2"><caption>sample (2 rows)</caption>')
        JsonShape.record(r).findings == JsonShape.rows(sample())
        JsonShape.record(r).type == 'check-result'
    }

    def "HTML escapes cell text"() {
        given:
        def t = TableView.of('x', 'a<b', [Column.plain('name')]).add('<script>&"').build()

        expect:
        HtmlRender.table(t).contains('<td>&lt;script&gt;&amp;&quot;</td>')
        HtmlRender.table(t).contains('<caption>a&lt;b (1 rows)</caption>')
    }

    def "a hexdump: 16 bytes a line, repeated lines starred, the last one shown; JSON as one hex string"() {
        given:
        byte[] bytes = new byte[48]
        bytes[0] = 0x51; bytes[1] = 0x46; bytes[2] = 0x49; bytes[3] = (byte) 0xfb
        def h = new HexdumpView('host', 0x10000, bytes)

        expect:
        TextRender.hexdump(h) == """\
host 0x10000 +48
00010000  51 46 49 fb 00 00 00 00  00 00 00 00 00 00 00 00  |QFI.............|
00010010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|
00010020  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|
"""
        TextRender.hexdump(new HexdumpView('guest', 0, new byte[64])).readLines() ==
                ['guest 0x0 +64', '00000000  ' + '00 ' * 7 + '00  ' + '00 ' * 7 + '00  |................|', '*',
                 '00000030  ' + '00 ' * 7 + '00  ' + '00 ' * 7 + '00  |................|']
        HtmlRender.hexdump(h).startsWith('<pre class="qcow2-hexdump">host 0x10000 +48\n')
        JsonShape.of(h) == [type: 'hexdump', space: 'host', offset: 0x10000L, length: 48, hex: '514649fb' + '00' * 44]
    }
}
