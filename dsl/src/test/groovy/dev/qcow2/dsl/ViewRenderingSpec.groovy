package dev.qcow2.dsl

import dev.qcow2.testing.Qemu
import groovy.json.JsonSlurper
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * Text, HTML and JSON are three renderings of one view: every cell the text shows is the cell
 * the HTML shows, and both are the JSON value formatted by its column; JSON records carry the
 * view's type and exactly its columns (or fields).
 */
class ViewRenderingSpec extends Specification {
    @TempDir Path dir

    /** Extended L2 with compressed, zero-flagged and partly written clusters, and a snapshot. */
    private Path image() {
        def img = Qemu.create(dir.resolve('v.qcow2'), '4M', 'extended_l2=on')
        Qemu.io(img, 'write -P 1 0 2k', 'write -c -P 7 128k 64k', 'write -z 256k 64k', 'write -P 2 1M 4k')
        Qemu.img('snapshot', '-c', 'a', img.toString())
        img
    }

    /** The cells of an aligned text table, cut at the columns the rule line marks. */
    private static List<List<String>> textCells(String text) {
        def lines = text.readLines()
        def matcher = lines[1] =~ /-+/
        def spans = []
        while (matcher.find()) spans << [matcher.start(), matcher.end()]
        lines.drop(2).collect { String l -> spans.collect { s -> l.length() <= s[0] ? '' : l.substring(s[0], Math.min(s[1], l.length())).trim() } }
    }

    private static String unescape(String s) {
        s.replace('&lt;', '<').replace('&gt;', '>').replace('&quot;', '"').replace('&amp;', '&')
    }

    private static List<List<String>> htmlCells(String html) {
        def body = html.substring(html.indexOf('<tbody>'))
        (body =~ /<tr>(.*?)<\/tr>/).collect { m -> (m[1] =~ /<td[^>]*>(.*?)<\/td>/).collect { unescape(it[1]) } }
    }

    def "'#word' renders the same cells as text, HTML and JSON"() {
        given:
        def shell = new DslShell()
        shell.evaluate("open '${image()}'")
        Table t = shell.evaluate(word)

        when:
        def text = textCells(t.toString())
        def html = htmlCells(t.toHtml())
        def json = new JsonSlurper().parseText(t.toJson())

        then:
        t.type == type
        t.size() >= 1
        text.size() == t.size() && html.size() == t.size() && json.size() == t.size()
        json.every { it.keySet() as List == ['type'] + t.columnNames && it.type == type }
        (0..<t.size()).every { int i ->
            t.columns.withIndex().every { Column c, int j ->
                String expected = c.format(json[i][c.name])
                text[i][j] == expected && html[i][j] == expected && expected == c.format(t[i][c.name])
            }
        }

        cleanup:
        shell?.close()

        where:
        word                  || type
        'walk l2'             || 'l2-entry'
        "walk l2, all: true"  || 'l2-entry'
        'walk l1'             || 'l1-entry'
        'refcounts'           || 'refcount'
        'refcounts.table'     || 'reftable-entry'
        'features'            || 'feature-bit'
    }

    def "a record renders the same fields as text, HTML and JSON"() {
        given:
        def shell = new DslShell()
        shell.evaluate("open '${image()}'")
        Record r = shell.evaluate('header')

        when:
        def text = r.toString().readLines().collectEntries { String l -> def m = l =~ /^(\w+):\s?(.*)$/; assert m.matches(); [(m.group(1)): m.group(2).trim()] }
        def html = (r.toHtml() =~ /<tr><th style="text-align:left">(.*?)<\/th><td>(.*?)<\/td><\/tr>/).collect { [it[1], unescape(it[2])] }.collectEntries()
        def json = new JsonSlurper().parseText(r.toJson())

        then:
        r.type == 'header'
        json.type == 'header'
        json.keySet() as List == ['type'] + (r.fields.keySet() as List)
        r.fields.keySet().every { String k -> text[k] == r.format(k, json[k]) && html[k] == text[k] }
        text.magic == '0x514649fb'
        text.size == '4194304 (4 MiB)'
        text.incompatible_feature_names == 'extended L2 entries'

        cleanup:
        shell?.close()
    }
}
