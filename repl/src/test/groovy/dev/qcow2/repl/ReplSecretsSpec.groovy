package dev.qcow2.repl

import dev.qcow2.dsl.DslShell
import dev.qcow2.testing.Qemu
import org.jline.terminal.Size
import org.jline.terminal.Terminal
import org.jline.terminal.TerminalBuilder
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * Secrets in the interactive REPL: a passphrase typed in DSL code never reaches the history file
 * (nor the up-arrow), and the passphrase prompt reads without echo, keeps nothing in history
 * and takes quotes as they are.
 */
class ReplSecretsSpec extends Specification {
    static final String PASS = 'Zq9-Sup3r-S3cret-7x'

    @Shared @TempDir Path dir
    @Shared Path plain
    @TempDir Path home

    def setupSpec() {
        plain = Qemu.create(dir.resolve('plain.qcow2'), '1M')
    }

    /** Runs the REPL on a dumb stream terminal typing {@code input}; output and the history file. */
    Map repl(String input) {
        def out = new ByteArrayOutputStream()
        def in = new PipedInputStream()
        def feed = new PipedOutputStream(in)
        Terminal terminal = TerminalBuilder.builder().system(false).streams(in, out).type(Terminal.TYPE_DUMB).size(new Size(120, 10)).build()
        def evaluator = new Evaluator(new DslShell())
        Path history = home.resolve('history')
        def repl = new Repl(terminal, evaluator, history)
        int status
        def runner = Thread.start { status = repl.run('banner line') }
        long deadline = System.nanoTime() + 10_000_000_000L
        while (!out.toString('UTF-8').contains('banner line') && System.nanoTime() < deadline) Thread.sleep(5)
        feed.write(input.getBytes('UTF-8'))
        int seen = -1
        while (runner.alive && System.nanoTime() < deadline + 10_000_000_000L && (evaluator.busy() || out.size() != seen)) {
            seen = out.size()
            Thread.sleep(300)
        }
        feed.close()
        runner.join(20_000)
        assert !runner.alive: 'the REPL did not finish: ' + out.toString('UTF-8')
        evaluator.close()
        terminal.close()
        [out: out.toString('UTF-8'), status: status, history: Files.exists(history) ? Files.readString(history) : '']
    }

    def "a passphrase typed in DSL code is masked in the history file; errors do not show it"() {
        when:
        def r = repl("open '$plain', secret: '$PASS'\nopen '${dir.resolve('missing.qcow2')}', secrets: [0: '$PASS']\ninfo.format\n:quit\n")

        then:
        r.status == 0
        r.history.contains("open '$plain', secret: '***'")
        r.history.contains("secrets: [0: '***']")
        r.history.contains('info.format')
        !r.history.contains(PASS)
        r.out.contains("Could not open '${dir.resolve('missing.qcow2')}': No such file or directory")
        // only the terminal's echo of the typed lines shows it: nothing the REPL prints repeats it
        r.out.readLines().findAll { it.contains(PASS) }.every { it.contains("secret") && it.contains('open ') }
    }

    def "the REPL gives the session a prompt that asks on its terminal"() {
        given:
        Terminal terminal = TerminalBuilder.builder().system(false).streams(new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream())
                .type(Terminal.TYPE_DUMB).build()
        def evaluator = new Evaluator(new DslShell())

        when:
        new Repl(terminal, evaluator, home.resolve('h'))

        then:
        evaluator.shell().session.passphrasePrompt instanceof PassphrasePrompt

        cleanup:
        evaluator.close()
        terminal.close()
    }

    def "the passphrase prompt reads a line without echo, quotes and all, and keeps no history"() {
        given:
        def out = new ByteArrayOutputStream()
        def in = new PipedInputStream()
        def feed = new PipedOutputStream(in)
        String typed = "it's \"$PASS\" {"
        Terminal terminal = TerminalBuilder.builder().system(false).streams(in, out).type(Terminal.TYPE_DUMB).build()
        def prompt = new PassphrasePrompt(terminal)

        when: 'the user types once the prompt is out, as at a real terminal (the reader has turned echo off by then)'
        char[] pw = null
        def reader = Thread.start { pw = prompt.passphrase(Path.of('/img/enc.qcow2'), 1) }
        long deadline = System.nanoTime() + 10_000_000_000L
        while (!out.toString('UTF-8').contains('Passphrase for') && System.nanoTime() < deadline) Thread.sleep(5)
        feed.write((typed + '\n').getBytes('UTF-8'))
        feed.flush()
        reader.join(10_000)
        terminal.flush()

        then:
        new String(pw) == typed
        out.toString('UTF-8').contains('Passphrase for /img/enc.qcow2 (backing file, depth 1): ')
        !out.toString('UTF-8').contains(PASS)
        !out.toString('UTF-8').contains("it's")

        cleanup:
        terminal.close()
    }

    def "opening an encrypted image without its passphrase asks for it, without echo, and reads (needs the core encryption work)"() {
        given:
        Path aes = dir.resolve('aes.qcow2')
        Qemu.img('create', '-q', '-f', 'qcow2', '--object', "secret,id=s,data=$PASS", '-o', 'encrypt.format=aes,encrypt.key-secret=s',
                aes.toString(), '1M')
        Qemu.run([Qemu.QEMU_IO, '--object', "secret,id=s,data=$PASS".toString(), '--image-opts',
                  "driver=qcow2,file.filename=$aes,encrypt.key-secret=s".toString(), '-c', 'write -P 0x5a 0 64k'])
        def out = new ByteArrayOutputStream()
        def in = new PipedInputStream()
        def feed = new PipedOutputStream(in)
        Terminal terminal = TerminalBuilder.builder().system(false).streams(in, out).type(Terminal.TYPE_DUMB).size(new Size(120, 10)).build()
        def evaluator = new Evaluator(new DslShell())
        Path history = home.resolve('history')
        def repl = new Repl(terminal, evaluator, history)
        def runner = Thread.start { repl.run('banner line') }
        def waitFor = { String text ->
            long deadline = System.nanoTime() + 20_000_000_000L
            while (!out.toString('UTF-8').contains(text) && System.nanoTime() < deadline) Thread.sleep(10)
        }

        when:
        waitFor('banner line')
        feed.write("open '$aes'\n".getBytes('UTF-8'))
        waitFor('Passphrase for')
        feed.write("$PASS\n".getBytes('UTF-8'))
        waitFor('writable: ')
        feed.write('read 0, 16\n:quit\n'.getBytes('UTF-8'))
        runner.join(20_000)
        String shown = out.toString('UTF-8')

        then:
        shown.contains("Passphrase for $aes: ")
        shown.contains('5a 5a 5a 5a')
        !shown.contains(PASS)
        !Files.readString(history).contains(PASS)

        cleanup:
        feed.close()
        evaluator.close()
        terminal.close()
    }

    def "end of input at the passphrase prompt gives no passphrase"() {
        given:
        Terminal terminal = TerminalBuilder.builder().system(false).streams(new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream())
                .type(Terminal.TYPE_DUMB).build()

        expect:
        new PassphrasePrompt(terminal).passphrase(Path.of('x.qcow2'), 0) == null

        cleanup:
        terminal.close()
    }
}
