package dev.qcow2.dsl

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.ImageMatrix
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** write, zero, discard and writeCompressed in a writable session, checked with qemu-img. */
class WriteCommandsSpec extends Specification {
    static final int CS = Fixtures.CS
    @TempDir Path dir

    def "#maker image: writes read back at once, leave the bytes qemu-img reads, and a consistent image"() {
        given:
        Path img = build(dir)
        byte[] model = Qemu.rawBytes(img)
        Path clusterFile = ImageMatrix.patternFile(dir, 3, CS)
        byte[] cluster = Files.readAllBytes(clusterFile)
        def shell = new DslShell()
        shell.evaluate("open '$img', writable: true")

        when:
        shell.evaluate("write 0x1000, 'hello'")
        def readBack = shell.evaluate('read 0x1000, 5').asText()
        shell.evaluate("zero '64k', '64k'")
        shell.evaluate("discard '128k', '64k'")
        shell.evaluate("writeCompressed 0x70000, from: '$clusterFile'")
        shell.evaluate("write '10M' - '10M' + 0xa0000, [1, 2, 3]") // a Groovy expression as the offset is fine too
        def compressed = shell.evaluate('walk(l2, at: 0x70000)[0]')
        shell.close()
        'hello'.bytes.eachWithIndex { byte b, int i -> model[0x1000 + i] = b }
        Arrays.fill(model, CS, 2 * CS, (byte) 0)
        Arrays.fill(model, 2 * CS, 3 * CS, (byte) 0)    // no backing file: a discarded cluster reads zeros
        System.arraycopy(cluster, 0, model, 0x70000, CS)
        [1, 2, 3].eachWithIndex { int b, int i -> model[0xa0000 + i] = (byte) b }

        then:
        readBack == 'hello'
        compressed.kind == 'compressed'
        Qemu.rawBytes(img) == model
        Qemu.img(['check', img.toString()], false).exit == 0

        cleanup:
        shell?.close()

        where:
        maker        | build
        'qemu-io'    | { Path d -> Fixtures.mixed(d) }
        'our writer' | { Path d -> Fixtures.ours(d) }
    }

    def "misuse of the write commands: #code"() {
        given:
        def img = Fixtures.mixed(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img'${writable ? ', writable: true' : ''}")
        def before = Sha256.of(img)

        when:
        shell.evaluate(code)

        then:
        def e = thrown(DslException)
        e.message == message.replace('IMG', img.toString())

        cleanup:
        shell?.close()
        if (!writable) assert Sha256.of(img) == before

        where:
        code                              | writable | message
        "write 0, 'x'"                    | false    | "image is open read-only — use open 'IMG', writable: true"
        'zero 0, 512'                     | false    | "image is open read-only — use open 'IMG', writable: true"
        "discard 0, '64k'"                | false    | "image is open read-only — use open 'IMG', writable: true"
        "writeCompressed 0, 'x'"          | false    | "image is open read-only — use open 'IMG', writable: true"
        "write '1M', 'hello'"             | true     | 'IMG: write of 5 bytes at offset 1048576 is outside the disk (1048576 bytes)'
        "writeCompressed 512, 'x'"        | true     | 'writeCompressed: offset 0x200 is not cluster-aligned (clusters are 65536 bytes)'
        'write 0, 3.5'                    | true     | 'write: data must be bytes, a string, a file or a list of byte values, not BigDecimal'
        "write 0, from: 'missing.bin'"    | true     | "Could not open 'missing.bin': No such file or directory"
        "zero 'lots', 1"                  | true     | "bad offset 'lots': use a number, 0x… or a size like 512, 64k, 1M, 2G"
    }

    def "a second writable session on the same image is refused while the first holds the lock"() {
        given:
        def img = Fixtures.mixed(dir)
        def first = new DslShell()
        first.evaluate("open '$img', writable: true")

        when:
        new DslShell().evaluate("open '$img', writable: true")

        then:
        def e = thrown(DslException)
        e.message.startsWith("$img: Failed to get \"write\" lock")

        cleanup:
        first?.close()
    }
}
