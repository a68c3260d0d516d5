package dev.qcow2.dsl

import dev.qcow2.testing.Damage
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * unreferenced: leaked, free and referenced-but-free clusters with their contents, against
 * qemu-img check's "Leaked cluster" and "refcount=0 reference=1" reports; .bytes and .save(to:).
 */
class UnreferencedSpec extends Specification {
    @TempDir Path dir

    static final int CS = Fixtures.CS
    static final String OWNER = 'data of the active state for guest 0x0'

    /**
     * mixed, grown by two clusters past its end: the first leaked (refcount 1) holding text, the
     * second free (refcount 0) holding text; and guest cluster 0's data cluster given refcount 0.
     * Returns [image, leaked cluster, free cluster, data cluster].
     */
    static List damaged(Path dir) {
        def img = Fixtures.mixed(dir)
        def d = new Damage(img)
        long end = Files.size(img).intdiv(CS)
        assert Files.size(img) % CS == 0
        long data = Qemu.img('map', '--output=json', img.toString()).json().find { it.start == 0 }.offset.intdiv(CS)
        d.put16(d.refblock() + 2 * end, 1)
        d.put16(d.refblock() + 2 * data, 0)
        new RandomAccessFile(img.toFile(), 'rw').withCloseable { it.setLength((end + 2) * CS) }
        Damage.putBytes(img, end * CS + 100, 'LEAKED TEXT'.bytes)
        Damage.putBytes(img, (end + 1) * CS, 'FREE TEXT'.bytes)
        [img, end, end + 1, data]
    }

    def "unreferenced lists what qemu-img check reports as leaked and as refcount 0 but referenced, and the free clusters, read-only"() {
        given:
        def (Path img, long leaked, long free, long data) = damaged(dir)
        def before = Sha256.of(img)
        def qemu = Qemu.img(['check', img.toString()], false)
        def qemuLeaked = (qemu.err + qemu.out).findAll(/Leaked cluster (\d+) refcount=1 reference=0/) { m, c -> c as long }
        def qemuZero = (qemu.err + qemu.out).findAll(/ERROR cluster (\d+) refcount=0 reference=1/) { m, c -> c as long }
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        when:
        Table u = shell.evaluate('unreferenced')
        def byCluster = u.collectEntries { [(it.cluster): it] }

        then:
        qemuLeaked == [leaked]
        qemuZero == [data]
        u.findAll { it.state == 'leaked' }*.cluster == qemuLeaked
        u.findAll { it.state == 'referenced, refcount 0' }*.cluster == qemuZero
        u.findAll { it.state == 'free' }*.cluster == [free]
        u.columnNames == ['cluster', 'host_offset', 'refcount', 'references', 'state', 'nonzero_bytes', 'entropy', 'first_bytes', 'owner']

        def l = byCluster[leaked], f = byCluster[free], z = byCluster[data]
        l.host_offset == leaked * CS
        l.refcount == 1L && l.references == 0L
        l.nonzero_bytes == 11L
        l.first_bytes == '00' * 16
        l.owner == null
        new String(l.bytes, 100, 11, 'US-ASCII') == 'LEAKED TEXT'
        l.bytes.length == CS

        f.refcount == 0L && f.references == 0L
        f.nonzero_bytes == 9L
        f.first_bytes == 'FREE TEXT'.bytes.encodeHex().toString() + '00' * 7
        f.entropy > 0.0 && f.entropy < 1.0

        z.refcount == 0L && z.references == 1L
        z.owner == OWNER
        z.bytes == Arrays.copyOf(Qemu.rawBytes(img), CS)
        Sha256.of(img) == before

        cleanup:
        shell?.close()
    }

    def "unreferenced renders as JSON rows with the table's columns and as an HTML table"() {
        given:
        def (Path img) = damaged(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        when:
        Table u = shell.evaluate('unreferenced')
        def rows = new groovy.json.JsonSlurper().parseText(Dsl.render(u, 'json'))

        then:
        rows.size() == u.size()
        rows.every { it.keySet() as List == u.columnNames }
        rows*.cluster == u*.cluster
        Dsl.render(u, 'html').contains('<table')

        cleanup:
        shell?.close()
    }

    def "entropy is #expected bits per byte for #what"() {
        expect:
        Unreferenced.entropy(bytes) == expected

        where:
        what                 | bytes                                              | expected
        'no bytes'           | new byte[0]                                        | 0.0
        'one repeated byte'  | new byte[4096]                                     | 0.0
        'two values, halves' | ([0] * 2048 + [1] * 2048) as byte[]                | 1.0
        'all 256 values'     | (0..<4096).collect { (byte) it } as byte[]          | 8.0
    }

    def "save(to:) writes a row's bytes to a file or into a directory, and refuses to replace a file unless overwrite: true"() {
        given:
        def (Path img, long leaked) = damaged(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img'")
        def carved = Files.createDirectory(dir.resolve('carved'))
        shell.binding.setVariable('carved', carved.toString())
        shell.binding.setVariable('file', dir.resolve('one.bin').toString())

        when:
        Record inDir = shell.evaluate("unreferenced.find { it.state == 'leaked' }.save(to: carved)")
        Record toFile = shell.evaluate("unreferenced.find { it.state == 'leaked' }.save(to: file)")
        Path named = carved.resolve(String.format('cluster-%d-at-0x%x.bin', leaked, leaked * CS))

        then:
        inDir.file == named.toString()
        inDir.length == (long) CS
        Files.readAllBytes(named) == Files.readAllBytes(dir.resolve('one.bin'))
        new String(Files.readAllBytes(named), 100, 11, 'US-ASCII') == 'LEAKED TEXT'

        when:
        shell.evaluate("unreferenced.find { it.state == 'leaked' }.save(to: file)")

        then:
        def e = thrown(DslException)
        e.message == "save: ${dir.resolve('one.bin')} exists; use overwrite: true to replace it"

        when:
        Files.write(dir.resolve('one.bin'), [1, 2, 3] as byte[])
        shell.evaluate("unreferenced.find { it.state == 'leaked' }.save(to: file, overwrite: true)")

        then:
        Files.size(dir.resolve('one.bin')) == CS

        cleanup:
        shell?.close()
    }

    def "bad input gives one line: #code"() {
        given:
        def (Path img) = damaged(dir)
        def before = Sha256.of(img)
        def shell = new DslShell()
        if (open) shell.evaluate("open '$img'")

        when:
        shell.evaluate(code)

        then:
        def e = thrown(DslException)
        e.message == message.replace('$IMG', img.toString())
        Sha256.of(img) == before

        cleanup:
        shell?.close()

        where:
        code                                            | open  | message
        'unreferenced'                                  | false | "no image open — use open 'file.qcow2'"
        'unreferenced[0].save()'                        | true  | "save: use save(to: 'file.bin') or save(to: 'directory')"
        'unreferenced[0].save(to: 3)'                   | true  | "save: use save(to: 'file.bin') or save(to: 'directory')"
        "unreferenced[0].save(to: 'x', mode: 1)"        | true  | 'save: unknown option mode; known: to, overwrite'
        "unreferenced[0].save(to: '/no/such/dir/x')"    | true  | "Could not open '/no/such/dir/x': No such file or directory"
        'unreferenced[0].save(to: path.toString(), overwrite: true)' | true | "save: ${'$'}IMG is the file these bytes come from; save to another file"
        'unreferenced[0].colour'                        | true  | "no column 'colour'; columns: cluster, host_offset, refcount, references, state, nonzero_bytes, entropy, first_bytes, owner"
    }

    def "a clean image made by qemu-img has no leaked or referenced-but-free clusters"() {
        given:
        def img = Fixtures.snapshots(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        expect:
        Qemu.img(['check', img.toString()], false).exit == 0
        shell.evaluate('unreferenced').every { it.state == 'free' && it.references == 0L && it.refcount == 0L }

        cleanup:
        shell?.close()
    }
}
