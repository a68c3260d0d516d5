package dev.qcow2.dsl

import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * export as raw and as qcow2, through the core's converter: checked with qemu-img check and
 * qemu-img compare against qemu-img convert -l of the same state, on images qemu-img made with
 * snapshots, compressed clusters and a backing file; and its refusals.
 */
class ExportSpec extends Specification {
    @TempDir Path dir

    static final int CS = Fixtures.CS

    /** Snapshots 'a' and 'b', compressed clusters in both and in the active state, and a backing file under all of it. */
    static Path layered(Path dir) {
        def base = Qemu.create(dir.resolve('base.qcow2'), '2M')
        Qemu.io(base, "write -P 0x0b 0 ${8 * CS}")
        def img = dir.resolve('top.qcow2')
        Qemu.img('create', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', img.toString())
        Qemu.io(img, "write -c -P 0x61 0 $CS", "write -P 0x62 ${2 * CS} 4096")
        Qemu.img('snapshot', '-c', 'a', img.toString())
        Qemu.io(img, "write -c -P 0x71 $CS $CS", "write -z 0 $CS", "write -P 0x72 ${12 * CS} $CS")
        Qemu.img('snapshot', '-c', 'b', img.toString())
        Qemu.io(img, "write -c -P 0x81 ${3 * CS} $CS", "discard ${2 * CS} $CS")
        img
    }

    /** qemu-img's raw export of one state ({@code snapshot} null: the active state). */
    Path reference(Path img, String snapshot) {
        Path ref = dir.resolve("ref-${snapshot ?: 'active'}.raw")
        def args = ['convert'] + (snapshot ? ['-l', "snapshot.name=$snapshot"] : []) + ['-O', 'raw', img.toString(), ref.toString()]
        Qemu.img(args as List<String>)
        ref
    }

    def "export #code: qemu-img check is clean and qemu-img compare equals convert -l #state"() {
        given:
        def img = layered(dir)
        def before = Sha256.of(img)
        def shell = new DslShell()
        shell.binding.setVariable('out', dir.resolve(file).toString())
        shell.evaluate("open '$img'")

        when:
        Record r = shell.evaluate(code)
        Path out = dir.resolve(file)

        then:
        r.format == format
        r.file == out.toString()
        r.size == 2 * 1024 * 1024L
        Qemu.img(['compare', '-f', format, '-F', 'raw', out.toString(), reference(img, state).toString()], false).exit == 0
        format == 'raw' || Qemu.img(['check', out.toString()], false).exit == 0
        format == 'raw' || Qemu.img(['info', '--output=json', out.toString()]).json().with {
            it['backing-filename'] == null && it['cluster-size'] == clusterSize
        }
        Sha256.of(img) == before

        cleanup:
        shell?.close()

        where:
        code                                                                        | state | file          | format  | clusterSize
        "export snapshot: 'a', to: out, format: 'qcow2'"                            | 'a'   | 'a.qcow2'     | 'qcow2' | CS
        "export snapshot: 'b', to: out"                                             | 'b'   | 'b.qcow2'     | 'qcow2' | CS
        "export snapshot: 'a', to: out"                                             | 'a'   | 'a.raw'       | 'raw'   | null
        "export qcow2: out"                                                         | null  | 'now.qcow2'   | 'qcow2' | CS
        "export qcow2: out, compress: true"                                         | null  | 'c.qcow2'     | 'qcow2' | CS
        "export qcow2: out, from: snapshot('b'), options: 'cluster_size=4k'"        | 'b'   | 'small.qcow2' | 'qcow2' | 4096
        "export snapshot: 'b', to: out, format: 'qcow2', options: 'compression_type=zstd', compress: true" | 'b' | 'z.qcow2' | 'qcow2' | CS
        "export raw: out"                                                           | null  | 'now.raw'     | 'raw'   | null
        "snapshot('a').export out, format: 'qcow2'"                                 | 'a'   | 'a.img'       | 'qcow2' | CS
        "snapshot('b').export out"                                                  | 'b'   | 'v.qcow2'     | 'qcow2' | CS
    }

    def "a compressed qcow2 export stores the data compressed, as convert -c"() {
        given:
        def img = layered(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img'")
        def out = dir.resolve('c.qcow2')

        when:
        shell.evaluate("export qcow2: '$out', compress: true")
        def check = Qemu.img(['check', '--output=json', out.toString()]).json()

        then:
        check['compressed-clusters'] > 0
        check['compressed-clusters'] == check['allocated-clusters']

        cleanup:
        shell?.close()
    }

    def "an existing target is refused, the file untouched; overwrite: true replaces it"() {
        given:
        def img = layered(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img'")
        def out = dir.resolve('a.qcow2')
        Files.writeString(out, 'keep me')

        when:
        shell.evaluate("export snapshot: 'a', to: '$out'")

        then:
        def e = thrown(DslException)
        e.message == "export: $out exists; use overwrite: true to replace it"
        Files.readString(out) == 'keep me'

        when:
        Record r = shell.evaluate("export snapshot: 'a', to: '$out', overwrite: true")

        then:
        r.format == 'qcow2'
        Qemu.img(['compare', '-F', 'raw', out.toString(), reference(img, 'a').toString()], false).exit == 0

        cleanup:
        shell?.close()
    }

    def "export never writes into the open image or its backing file, even with overwrite: true (#target)"() {
        given:
        def img = layered(dir)
        def top = Sha256.of(img)
        def base = Sha256.of(dir.resolve('base.qcow2'))
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        when:
        shell.evaluate("export qcow2: '${dir.resolve(target)}', overwrite: true")

        then:
        def e = thrown(DslException)
        e.message == "export: ${dir.resolve(target)} is $what; export to another file"
        Sha256.of(img) == top
        Sha256.of(dir.resolve('base.qcow2')) == base

        cleanup:
        shell?.close()

        where:
        target       | what
        'top.qcow2'  | 'the open image'
        'base.qcow2' | 'a file the open image reads from'
    }

    def "bad export input gives one line: #code"() {
        given:
        def img = layered(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img'")
        Files.writeString(dir.resolve('exists.raw'), 'x')
        shell.binding.setVariable('d', dir.toString())

        when:
        shell.evaluate(code)

        then:
        def e = thrown(DslException)
        e.message == message.replace('D', dir.toString())
        e.message.readLines().size() == 1
        !Files.exists(dir.resolve('new.qcow2'))

        cleanup:
        shell?.close()

        where:
        code                                                                   | message
        "export snapshot: 'x', to: d + '/new.qcow2'"                           | "unknown snapshot 'x'; known: a, b"
        "export snapshot: 'a'"                                                 | "export snapshot: 'a' needs to: 'file.raw' or to: 'file.qcow2'"
        "export from: snapshot('a')"                                           | "export: name one target: export raw: 'out.raw', export qcow2: 'out.qcow2' or export snapshot: 'a', to: 'a.qcow2'"
        "export raw: d + '/a.raw', qcow2: d + '/new.qcow2'"                    | "export: name one target: export raw: 'out.raw', export qcow2: 'out.qcow2' or export snapshot: 'a', to: 'a.qcow2' (not raw and qcow2)"
        "export to: d + '/new.qcow2', format: 'vmdk'"                          | "export: format is 'raw' or 'qcow2', not 'vmdk'"
        "export raw: d + '/new.qcow2', format: 'qcow2'"                        | "export: raw: writes raw, but format: 'qcow2' was given"
        "export raw: d + '/r.raw', compress: true"                             | "export: compress: applies to format: 'qcow2' only"
        "export to: d + '/new.qcow2', compress: 'yes'"                         | "export: compress: takes true or false, not 'yes'"
        "export to: d + '/new.qcow2', options: 'cluster_size=3000'"            | "export: options: Cluster size must be a power of two between 512 and 2048k"
        "export to: d + '/new.qcow2', options: 'size=1M'"                      | "export: options: size is the size of the exported disk and cannot be set"
        "export to: d + '/new.qcow2', options: 'colour=red'"                   | "export: options: Invalid parameter 'colour'"
        "export to: d + '/new.qcow2', snapshot: 'a', from: snapshot('b')"      | "export: give snapshot: or from:, not both"
        "export to: d + '/new.qcow2', level: 9"                                | "export: unknown option level; known: raw, qcow2, to, snapshot, from, format, overwrite, compress, options"
        "export raw: d + '/exists.raw'"                                        | "export: D/exists.raw exists; use overwrite: true to replace it"
        "export to: d, overwrite: true"                                        | "export: D is a directory"
        "export to: d + '/no/such/dir/new.qcow2'"                              | "Could not open 'D/no/such/dir/new.qcow2': No such file or directory"
    }

    def "export on a closed session says to open an image"() {
        given:
        def shell = new DslShell()

        when:
        shell.evaluate("export qcow2: '${dir.resolve('x.qcow2')}'")

        then:
        def e = thrown(DslException)
        e.message == "no image open — use open 'file.qcow2'"
        !Files.exists(dir.resolve('x.qcow2'))
    }
}
