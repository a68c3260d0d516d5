package dev.qcow2.notebook

import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * A passphrase written in a cell ({@code %%dsl open 'x', secret: 'pw'}, a Java cell's
 * {@code Secret.ofString("pw")}) never shows in the cell's error, which the notebook stores.
 */
class NotebookSecretsSpec extends Specification {
    static final String PASS = 'Zq9-Sup3r-S3cret-7x'

    @Shared Qcow2Kernel kernel = new Qcow2Kernel()
    @Shared @TempDir Path dir
    @Shared Path plain

    def setupSpec() {
        plain = Qemu.create(dir.resolve('plain.qcow2'), '1M')
    }

    def cleanupSpec() { kernel.onShutdown(false) }

    def "a failing cell's one line never contains the passphrase: #code"() {
        when:
        kernel.evaluate(code.replace('PASS', PASS).replace('PLAIN', plain.toString()).replace('DIR', dir.toString()))

        then:
        def e = thrown(CellException)
        !e.message.contains(PASS)
        kernel.formatError(e).every { !it.contains(PASS) }

        where:
        code << [
                "%%dsl\nopen 'DIR/missing.qcow2', secret: 'PASS'",
                "%%dsl\nopen 'PLAIN', secret: 'PASS'\nthrow new IllegalStateException('PASS')",
                "%%dsl\nopen secret: 'PASS'",
                'var s = dev.qcow2.crypto.Secret.ofString("PASS");\nthrow new IllegalStateException("PASS");',
                'String x = dev.qcow2.crypto.Secret.ofString("PASS");',
        ]
    }

    def "a secret's value shown by a cell is redacted"() {
        expect:
        !kernel.eval('dev.qcow2.crypto.Secret.ofString("' + PASS + '")').toString().contains(PASS)
    }
}
