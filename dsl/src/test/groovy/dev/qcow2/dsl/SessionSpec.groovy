package dev.qcow2.dsl

import groovy.json.JsonSlurper
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/** Session life cycle, help, and rendering any value for a front end (text, HTML, JSON). */
class SessionSpec extends Specification {
    @TempDir Path dir

    def "open returns the image's info, close lets go of it, and the label says what is open"() {
        given:
        def img = Fixtures.mixed(dir)
        def shell = new DslShell()

        when:
        Record opened = shell.evaluate("open '$img', writable: true")

        then:
        opened.writable
        shell.session.label == 'mixed.qcow2 (writable)'

        when:
        shell.evaluate('close()')

        then:
        shell.session.label == 'no image'

        when: 'closing again does nothing'
        shell.evaluate('close()')

        then:
        shell.session.label == 'no image'

        when: 'the write lock went with it'
        new DslShell().withCloseable { it.evaluate("open '$img', writable: true") }

        then:
        noExceptionThrown()
    }

    def "open without following the backing file, and an unknown option"() {
        given:
        def img = Fixtures.mixed(dir)
        def shell = new DslShell()

        expect:
        !shell.evaluate("open '$img', backing: false").writable

        when:
        shell.evaluate("open '$img', readonly: true")

        then:
        def e = thrown(DslException)
        e.message == 'open: unknown option readonly; known: writable, backing, tolerant, follow, secret, secretFile, secrets'

        cleanup:
        shell?.close()
    }

    def "help lists every word with an example and where it applies"() {
        when:
        Table help = new DslShell().evaluate('help')

        then:
        help*.command == Help.names()
        help*.command.containsAll(['open', 'walk', 'refcounts', 'snapshot', 'find', 'export', 'repair', 'undo', ':quit', 'display', 'exit'])
        help.every { it.example.contains(it.command) }
        help.find { it.command == 'walk' }.where == 'everywhere'
        help.find { it.command == ':quit' }.where == 'REPL'
        help.find { it.command == 'display' }.where == 'notebook %%dsl cells'
        help.find { it.command == 'exit' }.where == 'qcow2 run'
    }

    def "help 'word' shows one word; an unknown one is a one-line error naming the words"() {
        given:
        def shell = new DslShell()

        expect:
        shell.evaluate("help 'walk'").example.startsWith('walk l1')
        shell.evaluate("help 'quit'").where == 'REPL'

        when:
        shell.evaluate("help 'frob'")

        then:
        def e = thrown(DslException)
        e.message.startsWith("no command 'frob'; commands: open, close, info")
    }

    def "Dsl.render gives text, HTML and JSON for tables, records, hexdumps and plain values"() {
        given:
        def img = Fixtures.mixed(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img'")
        def table = shell.evaluate('walk l1')
        def dump = shell.evaluate('read 0, 4, host: true')

        expect:
        Dsl.render(table, 'html').startsWith('<table')
        new JsonSlurper().parseText(Dsl.render(table, 'json'))[0].l1_index == 0
        Dsl.render(dump, 'text').contains('|QFI.|')
        Dsl.render(42, 'html') == '<pre>42</pre>'
        Dsl.render([a: 1], 'json').replaceAll(/\s/, '') == '{"a":1}'

        cleanup:
        shell?.close()
    }
}
