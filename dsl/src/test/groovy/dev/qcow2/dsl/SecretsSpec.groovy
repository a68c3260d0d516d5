package dev.qcow2.dsl

import dev.qcow2.crypto.SecretLookup
import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * {@code open 'x.qcow2', secret: 'pw' / secretFile: 'pw.txt' / secrets: [0: 'pw', 1: 'pw2']}:
 * which secret each layer of the chain gets, when the front end's prompt is asked, and that no
 * passphrase written in DSL code ever shows in an error line.
 */
class SecretsSpec extends Specification {
    static final String PASS = 'Zq9-Sup3r-S3cret-7x'

    @Shared @TempDir Path dir
    @Shared Path plain
    @Shared Path luks

    def setupSpec() {
        plain = Qemu.create(dir.resolve('plain.qcow2'), '1M')
        luks = Qemu.createLuks(dir.resolve('luks.qcow2'), '1M', 'encrypt.iter-time=10')
    }

    static String secretAt(SecretLookup lookup, int depth, Path path = Path.of('x.qcow2')) {
        lookup.secretFor(new SecretLookup.Layer(path, depth, Optional.empty())).map { new String(it.bytes(), 'UTF-8') }.orElse(null)
    }

    def "secret:, secretFile: and secrets: give each depth of the chain its passphrase"() {
        given:
        Path file = dir.resolve('pw.txt')
        Files.writeString(file, 'from-file\n')

        when:
        def s = SessionSecrets.of(options.collectEntries { k, v -> [k, v == 'FILE' ? file.toString() : v] }, null)

        then:
        (0..2).collect { secretAt(s.lookup(), it) } == expected

        cleanup:
        s?.close()

        where:
        options                                  || expected
        [:]                                      || [null, null, null]
        [secret: 'pw']                           || ['pw', null, null]
        [secretFile: 'FILE']                     || ['from-file\n', null, null]      // the file's bytes, as --object secret,file=
        [secrets: [0: 'a', 1: 'b']]              || ['a', 'b', null]
        [secret: 'top', secrets: [2: 'deep']]    || ['top', null, 'deep']
        [secret: 'pw'.toCharArray()]             || ['pw', null, null]
    }

    def "misuse is one line that never quotes a passphrase: #options"() {
        when:
        SessionSecrets.of(options, null)

        then:
        def e = thrown(DslException)
        e.message == message
        !e.message.contains(PASS)

        where:
        options                                          || message
        [secret: PASS, secretFile: 'x']                  || 'open: give secret: or secretFile:, not both'
        [secret: 42]                                     || 'open: secret: takes a string'
        [secrets: PASS]                                  || "open: secrets: takes a map of depth to passphrase, e.g. secrets: [0: 'pw', 1: 'pw2']"
        [secrets: [(PASS): PASS]]                        || 'open: secrets: keys are depths in the backing chain: 0 (the image), 1 (its backing file), ...'
        [secrets: [1: 42]]                               || 'open: secrets: [1: ...] takes a string'
        [secret: PASS, secrets: [0: PASS]]               || 'open: the secret of depth 0 is given twice (secret:/secretFile: are depth 0)'
    }

    def "the front end's prompt is asked only for an encrypted layer without a secret, once per depth"() {
        given:
        List<List> asked = []
        def s = SessionSecrets.of([secrets: [1: 'given']], { Path layer, int depth -> asked << [layer, depth]; 'typed'.toCharArray() } as SessionSecrets.Prompt)

        expect:
        secretAt(s.lookup(), 0, plain) == null              // not encrypted: no question
        secretAt(s.lookup(), 0, luks) == 'typed'
        secretAt(s.lookup(), 0, luks) == 'typed'            // asked once
        secretAt(s.lookup(), 1, luks) == 'given'            // given: not asked
        asked == [[luks, 0]]

        cleanup:
        s?.close()
    }

    def "a prompt that gives nothing leaves the layer without a secret"() {
        given:
        def s = SessionSecrets.of([:], { Path layer, int depth -> null } as SessionSecrets.Prompt)

        expect:
        secretAt(s.lookup(), 0, luks) == null
    }

    def "open takes the secret options (on a plain image they change nothing) and lists them when one is misspelt"() {
        given:
        def shell = new DslShell()

        when:
        Record r = shell.evaluate("open '$plain', secret: '$PASS', secrets: [1: 'x']")

        then:
        r.format == 'qcow2'
        shell.session.open

        when:
        shell.evaluate("open '$plain', secrt: '$PASS'")

        then:
        def e = thrown(DslException)
        e.message == 'open: unknown option secrt; known: writable, backing, tolerant, follow, secret, secretFile, secrets'

        cleanup:
        shell.close()
    }

    def "no DSL error line shows a passphrase written in the code: #code"() {
        given:
        def shell = new DslShell()

        when:
        shell.evaluate(code.replace('PASS', PASS).replace('PLAIN', plain.toString()).replace('DIR', dir.toString()))

        then:
        def e = thrown(DslException)
        !e.message.contains(PASS)
        !DslShell.errorLine(e).contains(PASS)

        cleanup:
        shell.close()

        where:
        code << [
                "open 'DIR/missing.qcow2', secret: 'PASS'",
                "open secret: 'PASS'",
                "open 'PLAIN', secret: 'PASS', bogus: 1",
                "open 'PLAIN', secrets: [0: 'PASS', 'x': 'y']",
                "open 'PLAIN', secret: \"PASS\"\nthrow new RuntimeException('PASS')",
                "open 'PLAIN', secret: 'PASS'\nundefinedWord",
                "open 'PLAIN', secret: 'PASS'\nread 'PASS'",
                "open 'PLAIN', secret: 'PASS')",
        ]
    }

    def "secret literals are masked in code kept for history: #code"() {
        expect:
        SecretRedaction.inCode(code) == masked

        where:
        code                                                    || masked
        "open 'x.qcow2', secret: 'pw'"                          || "open 'x.qcow2', secret: '***'"
        'open "x.qcow2", secret:"p\\"w", writable: true'        || 'open "x.qcow2", secret:"***", writable: true'
        "open 'x', secrets: [0: 'a', 1: \"b\"], backing: true"  || "open 'x', secrets: [0: '***', 1: \"***\"], backing: true"
        "open 'x', secret: '''multi'''"                         || "open 'x', secret: '''***'''"
        "open 'x', secretFile: 'pw.txt'"                        || "open 'x', secretFile: 'pw.txt'"
        "info"                                                  || "info"
    }

    def "help explains the secret options of open"() {
        expect:
        Help.entry('open').example.contains("secret: 'pw'")
        Help.entry('open').example.contains("secretFile: 'pw.txt'")
        Help.entry('open').example.contains("secrets: [0: 'pw', 1: 'base-pw']")
    }
}
