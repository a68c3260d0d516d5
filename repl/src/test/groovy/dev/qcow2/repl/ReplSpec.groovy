package dev.qcow2.repl

import dev.qcow2.dsl.DslShell
import org.jline.terminal.Size
import org.jline.terminal.Terminal
import org.jline.terminal.TerminalBuilder
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration

/**
 * The interactive REPL driven through JLine on a dumb terminal fed from a stream (as a pipe or a
 * test harness would): prompt, history, multi-line input, meta commands, Ctrl-C, and no colors
 * or paging when the terminal is dumb.
 */
class ReplSpec extends Specification {
    static final String ESC = '\u001b'
    @Shared @TempDir Path dir
    @Shared Path demo
    @TempDir Path home

    def setupSpec() {
        demo = DemoImage.create(dir)
    }

    /** Runs the REPL on {@code input}; {@code during} runs on another thread with the terminal, while the REPL reads. */
    Map repl(String input, Closure during = null, String type = Terminal.TYPE_DUMB, Duration progressDelay = Duration.ofMillis(300)) {
        def out = new ByteArrayOutputStream()
        def in = new PipedInputStream()
        def feed = new PipedOutputStream(in)
        Terminal terminal = TerminalBuilder.builder().system(false).streams(in, out).type(type)
                .size(new Size(80, 10)).build()
        def evaluator = new Evaluator(new DslShell())
        evaluator.shell().session.open(demo.toString())
        Path history = home.resolve('history')
        def repl = new Repl(terminal, evaluator, history, progressDelay)
        int status
        def runner = Thread.start { status = repl.run('banner line') }
        if (during) {
            during(feed, terminal)
        } else {
            // a stream terminal echoes input as it arrives: type only once the banner is out,
            // as a user would, so the echo cannot land before it
            long deadline = System.nanoTime() + 10_000_000_000L
            while (!out.toString('UTF-8').contains('banner line') && System.nanoTime() < deadline) Thread.sleep(5)
            feed.write(input.getBytes('UTF-8'))
            // end of input while a command still runs makes the stream terminal drop what the
            // REPL prints afterwards: close it only once the REPL is idle at its prompt
            int seen = -1
            while (runner.alive && System.nanoTime() < deadline + 10_000_000_000L && (evaluator.busy() || out.size() != seen)) {
                seen = out.size()
                Thread.sleep(300)
            }
        }
        feed.close()
        runner.join(20_000)
        assert !runner.alive: 'the REPL did not finish: ' + out.toString('UTF-8')
        evaluator.close()
        terminal.close()
        [out: out.toString('UTF-8'), status: status, history: Files.exists(history) ? Files.readString(history) : '']
    }

    def "evaluates each line, shows the open image in the prompt and leaves with :quit N"() {
        when:
        def r = repl("info.format\ncheck.leaks\n:quit 4\n")

        then:
        r.out.startsWith('banner line')
        r.out.contains('qcow2 demo.qcow2 (read-only)> ')
        r.out.readLines().any { it.endsWith('qcow2') }
        r.out.readLines().any { it.trim() == '1' }     // one leak
        r.status == 4
    }

    def "input with an open bracket continues on the next line"() {
        when:
        def r = repl("[1, 2,\n3].sum() * 100\n")

        then: 'one evaluation of both lines; end of input leaves with 0'
        r.out.contains('600')
        r.status == 0
    }

    def "history is written to the history file, multi-line entries included"() {
        when:
        def r = repl("info.format\n[1,\n2].size()\n")

        then:
        r.history.contains('info.format')
        r.history.contains('[1,')
        r.history.contains('2].size()')
    }

    def "syntax errors, unknown names and bad meta commands are one line each; the session goes on"() {
        when:
        def r = repl("1 +* 2\nnoSuchThing\n:bogus\ninfo.format\n")
        def lines = r.out.readLines()

        then:
        lines.count { it.contains('syntax error at line 1') } == 1
        lines.count { it.contains("unknown name 'noSuchThing'") } == 1
        lines.count { it.contains("unknown REPL command ':bogus'") } == 1
        lines.any { it.endsWith('qcow2') }
        !r.out.contains('\tat ')       // no stack trace
    }

    def ":help lists commands, :help NAME shows one, :load runs a file in the session"() {
        given:
        Path script = home.resolve('s.groovy')
        Files.writeString(script, "answer = snapshot.names.join('+')\n")

        when:
        def r = repl(":help walk\n:load $script\nanswer.toUpperCase()\n:help nope\n")

        then:
        r.out.contains('walk — L1 or L2 table entries')
        r.out.contains('BEFORE+AFTER')
        r.out.contains("no command 'nope'")
    }

    def "a dumb terminal gets plain text and no pager, however long the output"() {
        when: ':help is longer than the 10-line terminal'
        def r = repl(":help\nrefcounts\n")

        then:
        !r.out.contains(ESC)
        !r.out.contains('-- more')
        r.out.contains('writeCompressed')      // the end of the help table came out in one go
        r.out.contains(':quit [N]')
    }

    def "on a real terminal Tab completes, the prompt has colors, and long output pages"() {
        when: 'refcounts.le<Tab> becomes refcounts.leaks; then :help (longer than 10 rows) pages: space, then q'
        def r = repl("refcounts.le\t\n:help\n q\n", null, 'xterm-256color')

        then:
        r.out.contains('leaked')
        !r.out.contains('unknown name')
        r.out.contains(ESC + '[')
        r.out.contains('-- more (')
        !r.out.contains('Ctrl-C cancels')     // q stopped before the end of the help text
    }

    def "a dumb terminal has no completion: Tab is an ordinary character"() {
        when:
        def r = repl("refcounts.le\t\n")

        then:
        r.out.contains("unknown name 'le'")
    }

    def "Ctrl-C cancels a running command and the session stays"() {
        when: 'an endless loop runs; Ctrl-C (SIGINT) arrives; the next line still uses the open image'
        def r = repl(null) { OutputStream feed, Terminal t ->
            feed.write("while (true) { x = 1 }\n".bytes)
            feed.flush()
            Thread.sleep(700)
            t.raise(Terminal.Signal.INT)
            feed.write("info.format\n".bytes)
        }

        then:
        r.out.contains('cancelled')
        r.out.readLines().any { it.endsWith('qcow2') }
    }

    def "on a real terminal #command shows a progress bar, erased before the result"() {
        when: 'no delay before the bar, so even the small demo image shows one'
        def r = repl("$command\n".replace('OUT', home.resolve('out.raw').toString()), null, 'xterm-256color', Duration.ZERO)
        def bar = r.out =~ /\r${phase} \[[#-]+\] +(\d+)%/

        then:
        bar.find()
        (bar.group(1) as int) < 100
        r.out.contains(result)
        r.out.lastIndexOf("$phase [") < r.out.lastIndexOf(result)
        !r.out.contains('cancelled')

        where:
        command                     | phase    | result
        'check'                     | 'check'  | 'leaks only'
        "export raw: 'OUT'"         | 'export' | 'data_bytes'
        "find 'BOOTLOADER'"         | 'find'   | '0x30010'
        "snapshot.diff 'before', 'after'" | 'diff' | 'guest_offset'
    }

    def "a dumb terminal shows no progress bar for #command"() {
        when:
        def r = repl("$command\n".replace('OUT', home.resolve('out.raw').toString()), null, Terminal.TYPE_DUMB, Duration.ZERO)

        then:
        r.out.contains(result)
        !r.out.contains("$phase [")
        !(r.out =~ /\[[#-]+\] +\d+%/)

        where:
        command             | phase    | result
        'check'             | 'check'  | 'leaks only'
        "export raw: 'OUT'" | 'export' | 'data_bytes'
    }
}
