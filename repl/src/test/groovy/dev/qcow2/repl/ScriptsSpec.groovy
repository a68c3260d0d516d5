package dev.qcow2.repl

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Damage
import dev.qcow2.cli.Cli
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * The scripts in scripts/, run as `qcow2 run` runs them, on images made by qemu-img/qemu-io and
 * by our writer (the demo image), judged by qemu-img.
 */
class ScriptsSpec extends Specification {
    static final Path SCRIPTS = Path.of(System.getProperty('user.dir')).resolveSibling('scripts')
    static final int CS = 65536
    @TempDir Path dir

    static Cli.Result script(String name, Object... args) {
        Cli.run(['run', SCRIPTS.resolve(name).toString()] + (args as List))
    }

    /** qemu-made, 1 MiB: clusters 0-3 = 0x11, snapshot 'a', cluster 1 = 0x22, cluster 2 zeroed, cluster 5 added, snapshot 'b', cluster 0 partly 0x33. */
    Path qemuImage(String name = 'q.qcow2') {
        def img = Qemu.create(dir.resolve(name), '1M')
        Qemu.io(img, "write -P 0x11 0 ${4 * CS}")
        Qemu.img('snapshot', '-c', 'a', img.toString())
        Qemu.io(img, "write -P 0x22 $CS $CS", "write -P 0x55 ${5 * CS} $CS", "write -z ${2 * CS} $CS")
        Qemu.img('snapshot', '-c', 'b', img.toString())
        Qemu.io(img, "write -P 0x33 0 4096")
        img
    }

    /** qemu-made, no snapshots: guest clusters 0-1 hold 0x5a; guest cluster 1's L2 entry cleared, so its host cluster leaks with its data. */
    Path qemuLeaky() {
        def img = Qemu.create(dir.resolve('leaky.qcow2'), '1M')
        Qemu.io(img, "write -P 0x5a 0 ${2 * CS}")
        def d = new Damage(img)
        d.put64(d.l2() + 8, 0)
        img
    }

    Path demo() { DemoImage.create(Files.createDirectories(dir.resolve('demo'))) }

    def "triage exits like qemu-img check (#kind) and shows check, findings and snapshots, changing nothing"() {
        given:
        Path img = make(this)
        String sha = Sha256.of(img)
        int qemuExit = Qemu.img(['check', img.toString()], false).exit

        when:
        def r = script('triage.groovy', img)

        then:
        r.exit == qemuExit
        r.exit == exit
        r.out.contains('== info') && r.out.contains("== check: $result")
        r.out.contains('== snapshots')
        snapshots.every { r.out.contains(it) }
        Sha256.of(img) == sha

        where:
        kind                      | make                               || exit | result       | snapshots
        'qemu-made, clean'        | { it.qemuImage() }                 || 0    | 'clean'      | ['a', 'b']
        'qemu-made, leak'         | { it.qemuLeaky() }                 || 3    | 'leaks only' | ['(none)']
        'writer-made demo, leak'  | { it.demo() }                      || 3    | 'leaks only' | ['before', 'after']
        'qemu-made, corruption'   | { s -> s.qemuImage().with { new Damage(it).with { d -> d.put16(d.refblock() + 2 * 5, 0) }; it } } || 2 | 'corruptions' | ['a', 'b']
    }

    def "repair-leaks repairs a copy by default and leaves the original alone (#kind)"() {
        given:
        Path img = make(this)
        String sha = Sha256.of(img)
        Path copy = img.resolveSibling(img.fileName.toString().replace('.qcow2', '-repaired.qcow2'))

        when:
        def r = script('repair-leaks.groovy', img)

        then:
        r.exit == 0
        r.out.contains('1 leaked clusters freed')
        Sha256.of(img) == sha
        Qemu.img(['check', copy.toString()], false).exit == 0
        !Files.exists(Path.of(copy.toString() + '-undo'))

        where:
        kind          | make
        'qemu-made'   | { it.qemuLeaky() }
        'writer-made' | { it.demo() }
    }

    def "repair-leaks --in-place keeps the undo journal, and qcow2 undo restores every byte"() {
        given:
        Path img = qemuLeaky()
        String sha = Sha256.of(img)

        when:
        def r = script('repair-leaks.groovy', img, '--in-place')

        then:
        r.exit == 0
        Qemu.img(['check', img.toString()], false).exit == 0
        Files.exists(Path.of(img.toString() + '-undo'))
        r.out.contains("qcow2 undo $img")

        when:
        def u = Cli.run('undo', img)

        then:
        u.exit == 0
        Sha256.of(img) == sha
    }

    def "snapshot-report counts exactly the bytes that differ from the active state (#kind)"() {
        given:
        Path img = make(this)
        Path active = dir.resolve('active.raw')
        Qemu.img('convert', '-O', 'raw', img.toString(), active.toString())

        when:
        def r = script('snapshot-report.groovy', img)
        def rows = r.out.readLines().findAll { it =~ /^\d+\s/ }*.split(/\s+/)

        then:
        r.exit == 0
        rows*.getAt(1) == names
        rows.every { row -> (row[-1] as long) == differingBytes(img, row[1], active) }

        where:
        kind          | make                 || names
        'qemu-made'   | { it.qemuImage() }   || ['a', 'b']
        'writer-made' | { it.demo() }        || ['before', 'after']
    }

    def "snapshot-report on an image without snapshots says so"() {
        expect:
        script('snapshot-report.groovy', qemuLeaky()).with { it.exit == 0 && it.out.contains('no snapshots') }
    }

    def "extract-snapshot writes #ext images equal to qemu-img convert -l (#kind)"() {
        given:
        Path img = make(this)
        Path out = dir.resolve("out.$ext")
        Path ref = dir.resolve('ref.raw')
        Qemu.img('convert', '-l', name, '-O', 'raw', img.toString(), ref.toString())

        when:
        def r = script('extract-snapshot.groovy', img, name, out)

        then:
        r.exit == 0
        Qemu.img(['compare', '-f', ext, '-F', 'raw', out.toString(), ref.toString()], false).exit == 0
        ext == 'raw' || Qemu.img(['check', out.toString()], false).exit == 0

        where:
        kind          | make                | name     | ext
        'qemu-made'   | { it.qemuImage() }  | 'a'      | 'raw'
        'qemu-made'   | { it.qemuImage() }  | 'b'      | 'qcow2'
        'writer-made' | { it.demo() }       | 'before' | 'qcow2'
        'writer-made' | { it.demo() }       | 'after'  | 'raw'
    }

    def "extract-snapshot with an unknown name lists the known ones, one line, exit 1"() {
        when:
        def r = script('extract-snapshot.groovy', qemuImage(), 'x', dir.resolve('x.raw'))

        then:
        r.exit == 1
        r.err == "qcow2: extract-snapshot.groovy: unknown snapshot 'x'; known: a, b\n"
    }

    def "carve-leaked writes out the leaked cluster's data with its host offset (qemu-made)"() {
        given:
        Path img = qemuLeaky()
        String sha = Sha256.of(img)
        def leak = Qemu.img(['check', img.toString()], false).err =~ /Leaked cluster (\d+) refcount=1 reference=0/
        long cluster = leak[0][1] as long
        Path out = dir.resolve('carved')

        when:
        def r = script('carve-leaked.groovy', img, out)
        Path carved = out.resolve(String.format('cluster-%d-at-0x%x.bin', cluster, cluster * CS))

        then:
        r.exit == 0
        Files.readAllBytes(carved) == ([(byte) 0x5a] * CS) as byte[]
        Sha256.of(img) == sha
    }

    def "carve-leaked finds the demo's leaked cluster text (writer-made)"() {
        given:
        Path img = demo()
        Path out = dir.resolve('carved')

        when:
        def r = script('carve-leaked.groovy', img, out)
        def leakedFiles = r.out.readLines().findAll { it.contains(' leaked ') }

        then:
        r.exit == 0
        leakedFiles.size() == 1
        new String(Files.readAllBytes(Path.of(leakedFiles[0].split(/\s+/)[-1])), 'US-ASCII').startsWith(DemoImage.LEAKED_TEXT)
    }

    def "every script refuses wrong arguments with a one-line usage and exit 1"() {
        expect:
        ['triage.groovy', 'repair-leaks.groovy', 'snapshot-report.groovy', 'extract-snapshot.groovy', 'carve-leaked.groovy'].every { name ->
            def r = script(name)
            r.exit == 1 && r.err == "qcow2: $name: usage: ${r.err.split('usage: ')[1]}" && r.err.readLines().size() == 1
        }
    }

    /** Bytes that differ between snapshot {@code name} and the active state, per qemu-img's raw exports. */
    long differingBytes(Path img, String name, Path active) {
        Path snap = dir.resolve("snap-${name}.raw")
        Qemu.img('convert', '-l', name, '-O', 'raw', img.toString(), snap.toString())
        countDiffering(Files.readAllBytes(snap), Files.readAllBytes(active))
    }

    @groovy.transform.CompileStatic
    static long countDiffering(byte[] a, byte[] b) {
        if (a.length != b.length) throw new IllegalStateException("exports differ in size: ${a.length} vs ${b.length}")
        long n = 0
        for (int i = 0; i < a.length; i++) if (a[i] != b[i]) n++
        n
    }
}
