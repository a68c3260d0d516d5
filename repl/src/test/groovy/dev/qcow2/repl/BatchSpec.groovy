package dev.qcow2.repl

import dev.qcow2.testing.Sha256

import dev.qcow2.cli.Cli
import dev.qcow2.dsl.Words
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** `qcow2 repl [FILE] < input`: lines run one by one; results on stdout, errors on stderr; the exit status says whether all worked. */
class BatchSpec extends Specification {
    @Shared @TempDir Path dir
    @Shared Path demo

    def setupSpec() {
        demo = DemoImage.create(dir)
    }

    Cli.Result repl(String input, List<String> args) {
        Cli.withInput(input, ['repl'] + args)
    }

    def "piped lines are evaluated in one session and printed as plain text"() {
        given:
        String sha = Sha256.of(demo)

        when:
        def r = repl("info.format\nn = snapshot.names\n[n.size(),\n n[0]]\nrefcounts.leaks.size()\n", [demo.toString()])

        then:
        r.exit == 0
        r.err == ''
        r.out == "qcow2\n[before, after]\n[2, before]\n1\n"
        Sha256.of(demo) == sha
    }

    def "a failing line is reported on stderr with its line number; the rest still runs; exit 1"() {
        when:
        def r = repl("info.format\nsnapshot('nope')\nsnapshot.names.size()\n", [demo.toString()])

        then:
        r.exit == 1
        r.out == 'qcow2\n2\n'
        r.err == "qcow2: line 2: unknown snapshot 'nope'; known: before, after\n"
    }

    def ":quit N stops reading and exits with N"() {
        when:
        def r = repl("info.format\n:quit 7\ninfo.format\n", [demo.toString()])

        then:
        r.exit == 7
        r.out == 'qcow2\n'
    }

    def "input that ends inside a bracket is one error"() {
        when:
        def r = repl("[1,\n2,\n", [demo.toString()])

        then:
        r.exit == 1
        r.err.readLines().size() == 1
        r.err.startsWith('qcow2: line 1: syntax error')
    }

    def "without FILE the demo image is built, opened, and deleted at the end"() {
        when:
        def r = repl("info.file\ninfo.backing_file\ncheck.leaks\n", [])
        def lines = r.out.readLines()

        then:
        r.exit == 0
        lines[0].endsWith('demo.qcow2')
        lines[1] == 'base.qcow2'
        lines[2] == '1'
        !Files.exists(Path.of(lines[0]).parent)
    }

    def "a FILE that cannot be opened is one line and exit 1"() {
        when:
        def r = repl('', [dir.resolve('missing.qcow2').toString()])

        then:
        r.exit == 1
        r.err == "qcow2: Could not open '${dir.resolve('missing.qcow2')}': No such file or directory\n"
    }

    def "in the REPL a variable named '#name' wins over the command '#name'"() {
        when:
        def r = repl("${name} = [1, 2, 3]\n${name}.size()\n${name}.sum()\n", [demo.toString()])

        then:
        r.exit == 0
        r.err == ''
        r.out.readLines()[-2..-1] == ['3', '6']

        where:
        name << Words.commands()
    }

    def "close and undo as bare words say how to call them and change nothing; close() closes"() {
        given:
        String sha = Sha256.of(demo)

        when:
        def r = repl("close\nundo\ninfo.format\nclose()\ninfo\n", [demo.toString()])

        then:
        r.exit == 1
        r.err.readLines() == ['qcow2: line 1: close is a command: run it as close()',
                              'qcow2: line 2: undo is a command: run it as undo()',
                              "qcow2: line 5: no image open — use open 'file.qcow2'"]
        r.out.readLines() == ['qcow2']
        Sha256.of(demo) == sha
    }
}
