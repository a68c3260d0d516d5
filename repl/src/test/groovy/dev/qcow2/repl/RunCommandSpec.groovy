package dev.qcow2.repl

import dev.qcow2.cli.Cli
import dev.qcow2.dsl.Words
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** `qcow2 run SCRIPT ARGS`: exit status from `exit N` or an integer last value; failures are one line. */
class RunCommandSpec extends Specification {
    @TempDir Path dir

    Cli.Result run(String code, List<String> args = []) {
        Path script = dir.resolve('s.groovy')
        Files.writeString(script, code)
        Cli.run(['run', script.toString()] + args)
    }

    def "a script that #does exits with #status"() {
        when:
        def r = run(code)

        then:
        r.exit == status
        r.err == ''

        where:
        does                             | code                                    || status
        'calls exit 3'                   | "println 'a'; exit 3; println 'b'"      || 3
        'calls exit inside a closure'    | "[1, 2].each { if (it == 2) exit 4 }"   || 4
        'calls exit with no status'      | "exit"                                  || 0
        'ends with an integer'           | "def n = 2\nn + 3"                      || 5
        'ends with a string'             | "'done'"                                || 0
        'ends with a long (not a status)'| "7L"                                    || 0
        'ends with nothing'              | "println 'hi'"                          || 0
    }

    def "a failing script prints one line naming the script and exits 1: #what"() {
        when:
        def r = run(code)

        then:
        r.exit == 1
        r.err.readLines().size() == 1
        r.err.startsWith('qcow2: s.groovy: ')
        r.err.contains(message)

        where:
        what                 | code                                   || message
        'fail'               | "fail 'the image is not what I want'"  || 'the image is not what I want'
        'a DSL error'        | "open 'missing.qcow2'"                 || "Could not open 'missing.qcow2': No such file or directory"
        'misuse'             | "info"                                 || "no image open — use open 'file.qcow2'"
        'a syntax error'     | "def x = [1,\n"                        || 'syntax error'
        'an exception'       | "throw new IllegalStateException('boom')" || 'IllegalStateException: boom'
        'exit with no number'| "exit 'x'"                             || "exit takes a number, not 'x'"
    }

    def "in a script a variable named '#name' wins over the command '#name'"() {
        when:
        def r = run("${name} = [1, 2, 3]\nprintln ${name}.size()\nexit ${name}.sum()\n")

        then:
        r.err == ''
        r.out == '3\n'
        r.exit == 6

        where:
        name << Words.commands()
    }

    def "the arguments after SCRIPT are the script's, options included"() {
        when:
        def r = run("println args.join('|')", ['--in-place', 'a b', '-x'])

        then:
        r.exit == 0
        r.out == '--in-place|a b|-x\n'
    }

    def "a missing script is one line and exit 1"() {
        when:
        def r = Cli.run('run', dir.resolve('nope.groovy').toString())

        then:
        r.exit == 1
        r.err == "qcow2: ${dir.resolve('nope.groovy')}: no such script\n"
    }
}
