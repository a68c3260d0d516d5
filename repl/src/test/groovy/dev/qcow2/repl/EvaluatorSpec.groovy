package dev.qcow2.repl

import dev.qcow2.testing.Sha256

import dev.qcow2.dsl.DslShell
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path
import java.util.concurrent.CompletableFuture

/** Cancelling evaluations: user loops and file reads stop; the image is reopened; nothing is written. */
class EvaluatorSpec extends Specification {
    @Shared @TempDir Path dir
    @Shared Path demo

    def setupSpec() {
        demo = DemoImage.create(dir)
    }

    def "cancel stops #what and the next command works on the same image"() {
        given:
        String sha = Sha256.of(demo)
        def ev = new Evaluator(new DslShell())
        ev.evaluate("open '$demo'")

        when:
        def pending = CompletableFuture.supplyAsync { ev.evaluate(code) }
        Thread.sleep(500)
        ev.cancel()
        def outcome = pending.get()

        then:
        outcome.cancelled()
        outcome.error().startsWith('cancelled')
        ev.evaluate('info.snapshots').value() == 2
        ev.evaluate('read(0x30010, 10).bytes').value() == 'BOOTLOADER'.bytes

        cleanup:
        ev?.close()
        assert Sha256.of(demo) == sha

        where:
        what                         | code
        'an endless loop'            | 'while (true) { }'
        'endless reads of the image' | 'while (true) { read 0, 65536; cluster 5, host: true }'
    }

    def "a failing command is one line, and it is not a cancel"() {
        given:
        def ev = new Evaluator(new DslShell())

        when:
        def o = ev.evaluate('info')

        then:
        !o.ok() && !o.cancelled()
        o.error() == "no image open — use open 'file.qcow2'"

        cleanup:
        ev.close()
    }
}
