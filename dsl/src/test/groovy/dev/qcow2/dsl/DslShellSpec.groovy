package dev.qcow2.dsl

import dev.qcow2.testing.Sha256

import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/** The shell: DSL text as investigators write it, shared session and variables, one-line errors. */
class DslShellSpec extends Specification {
    @TempDir Path dir

    def "command syntax without parentheses, named arguments and closures evaluate against the session"() {
        given:
        def img = Fixtures.mixed(dir)
        def before = Sha256.of(img)
        def shell = new DslShell()

        when:
        def compressed = shell.evaluate("open '$img'; walk(l2).findAll { it.compressed }")
        def one = shell.evaluate("walk l2, at: 0x50000")
        def info = shell.evaluate('info')

        then:
        compressed instanceof Table
        compressed*.guest_offset == [0x40000L, 0x50000L]
        one.size() == 1 && one[0].kind == 'compressed'
        info.virtual_size == 1048576L
        !info.writable

        cleanup:
        shell?.close()
        assert Sha256.of(img) == before
    }

    def "variables assigned in one evaluation are there in the next"() {
        given:
        def img = Fixtures.mixed(dir)
        def shell = new DslShell()

        when:
        shell.evaluate("open '$img'\nentries = walk l2")
        def n = shell.evaluate('entries.size()')

        then:
        n == shell.evaluate('walk(l2).size()')
        n > 0

        cleanup:
        shell?.close()
    }

    def "Dsl.evaluate runs text in a fresh session"() {
        given:
        def img = Fixtures.mixed(dir)

        expect:
        Dsl.evaluate("open '$img'; header").cluster_bits == 16L
    }

    def "mistakes come back as one line: #code"() {
        given:
        def shell = new DslShell()

        when:
        shell.evaluate(code)

        then:
        def e = thrown(DslException)
        e.message == message
        !e.message.contains('\n')

        where:
        code                     | message
        'info'                   | "no image open — use open 'file.qcow2'"
        'walk l2'                | "no image open — use open 'file.qcow2'"
        "open 'nope.qcow2'"      | "Could not open 'nope.qcow2': No such file or directory"
        'infoo'                  | "unknown name 'infoo' — type help for the commands"
        'walk l2, l1'            | "wrong arguments for walk(Level, Level); use: walk l1  /  walk l2  /  walk l2, at: 0x10000000  /  walk(l2).findAll { it.compressed }"
        'frobnicate 3'           | "unknown command frobnicate(Integer) — type help for the commands"
        'walk(l2'                | 'syntax error: the input ends inside a bracket, brace or string (line 1)'
        'info )'                 | "syntax error at line 1, column 6: Unexpected input: ')'"
        'zero 64k, 64k'          | "sizes like 64k must be quoted: '64k' (or written 64.KiB)"
        'x = 4KiB'               | "sizes like 4KiB must be quoted: '4KiB' (or written 4.KiB)"
    }

    def "an unquoted size is refused before any of the code runs"() {
        given: 'zero 0, 1.5M would otherwise run zero(0, 1.5) and fail only afterwards on .M'
        def img = Fixtures.mixed(dir)
        def before = Sha256.of(img)
        def shell = new DslShell()
        shell.evaluate("open '$img', writable: true")

        when:
        shell.evaluate('zero 0, 1.5M')

        then:
        def e = thrown(DslException)
        e.message == "sizes like 1.5M must be quoted: '1.5M' (or written 1.5.MiB)"

        when:
        shell.close()

        then:
        Sha256.of(img) == before
    }

    def "numbers that are Groovy, and sizes inside strings, regexes and comments, are not taken for bare sizes: #code"() {
        expect:
        BareSizes.find(code) == null

        where:
        code << ["zero '64k', '64k'", 'zero 0x10000, 65536', "find ~/64k/", '// zero 64k, 64k', 'x = 1e+5; y = 1.5e3',
                 'walk l2', 'z = 0b101', 'n = 2G', '"""64k"""', '/* 1M */ info']
    }

    def "a syntax error names the line; an open brace is incomplete, not an error"() {
        given:
        def shell = new DslShell()

        expect:
        shell.completeness('walk(l2).findAll {') == DslShell.Completeness.INCOMPLETE
        shell.completeness('info') == DslShell.Completeness.COMPLETE
        shell.completeness('walk l2 ]') == DslShell.Completeness.INVALID
    }
}
