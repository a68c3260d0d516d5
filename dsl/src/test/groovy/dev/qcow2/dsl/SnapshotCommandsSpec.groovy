package dev.qcow2.dsl

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Qemu
import groovy.transform.CompileStatic
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** snapshot.list/diff/create/apply/delete and snapshot('x') views, against qemu-img. */
class SnapshotCommandsSpec extends Specification {
    static final int CS = Fixtures.CS
    @TempDir Path dir

    /** cluster → number of differing bytes between two raw disks (what qemu-img convert -l shows). */
    @CompileStatic
    static Map<Long, Long> differences(byte[] x, byte[] y) {
        def out = [:] as TreeMap<Long, Long>
        for (int c = 0; c < x.length.intdiv(CS); c++) {
            long n = 0
            for (int k = c * CS; k < (c + 1) * CS; k++) if (x[k] != y[k]) n++
            if (n) out[(long) c] = n
        }
        out
    }

    def "snapshot.list is qemu-img's snapshot list; diff names exactly the clusters whose bytes differ, and how"() {
        given:
        def img = Fixtures.snapshots(dir)
        def before = Sha256.of(img)
        def qemu = Qemu.img('info', '--output=json', img.toString()).json()
        byte[] a = Qemu.rawBytes(img, 'a'), b = Qemu.rawBytes(img, 'b'), active = Qemu.rawBytes(img)
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        when:
        Table list = shell.evaluate('snapshot.list')
        Table ab = shell.evaluate("snapshot.diff 'a', 'b'")
        Table bActive = shell.evaluate("snapshot.diff 'b'")

        then:
        list.collect { [it.id, it.name] } == qemu.snapshots.collect { [it.id, it.name] }
        ab.collectEntries { [(it.cluster): it.bytes] } == differences(a, b)
        // qemu-io's discard of a cluster without a backing file leaves a zero entry, so cluster 3 is zeroed
        ab.collectEntries { [(it.cluster): it.change] } == [1L: 'changed', 2L: 'zeroed', 3L: 'zeroed', 5L: 'added']
        // before/after name the entries as walk l2 does (QEMU's cluster types)
        ab.every { [it.before, it.after].every { k -> k in ['normal', 'compressed', 'zero-plain', 'zero-alloc', 'unallocated'] } }
        ab.findAll { it.change == 'zeroed' }.every { it.after.startsWith('zero-') }
        ab.every { row -> row.after == shell.evaluate("walk(l2, at: ${row.guest_offset}, from: 'b')")[0].kind }
        shell.evaluate("snapshot.diff 'b', 'a'").collectEntries { [(it.cluster): it.change] } ==
                [1L: 'changed', 2L: 'changed', 3L: 'changed', 5L: 'discarded']
        bActive.collectEntries { [(it.cluster): it.bytes] } == differences(b, active)
        bActive*.change == ['changed']
        shell.evaluate("snapshot.diff 'a', 'a'").isEmpty()

        cleanup:
        shell?.close()
        assert Sha256.of(img) == before
    }

    def "snapshot('a') is a view every read command takes: read, walk, map, find, export"() {
        given:
        def img = Fixtures.snapshots(dir)
        def before = Sha256.of(img)
        byte[] a = Qemu.rawBytes(img, 'a')
        def out = dir.resolve('a.raw')
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        expect:
        shell.evaluate("read 0x30000, 16, from: snapshot('a')").bytes == [0x11] * 16 as byte[]
        shell.evaluate("snapshot('a').read(0x30000, 16)").bytes == [0x11] * 16 as byte[]
        shell.evaluate("walk(l2, from: 'a').size()") == 4
        shell.evaluate("walk(l2, from: snapshot('a')).every { it.kind == 'normal' }")
        shell.evaluate("map from: snapshot('a')").collect { it.length }.sum() == 1048576L
        shell.evaluate("map(from: 'a')").findAll { it.data }.collect { it.length }.sum() == 4L * CS
        shell.evaluate("find([0x11] * 4 as byte[], from: 'a', limit: 1)")*.offset == [0L]
        shell.evaluate("export snapshot: 'a', to: '$out'").data_bytes == 4L * CS
        Files.readAllBytes(out) == a

        cleanup:
        shell?.close()
        assert Sha256.of(img) == before
    }

    def "create, apply and delete change the image as qemu-img snapshot shows, and it stays consistent"() {
        given:
        def img = Fixtures.snapshots(dir)
        byte[] a = Qemu.rawBytes(img, 'a')
        def shell = new DslShell()
        shell.evaluate("open '$img', writable: true")

        when:
        shell.evaluate("snapshot.create 'c'")
        shell.evaluate("snapshot.apply 'a'")
        shell.evaluate("snapshot.delete 'b'")
        def names = shell.evaluate('snapshot.list')*.name
        byte[] readBack = shell.evaluate("read 0, '1M'").bytes
        shell.close()

        then:
        names == ['a', 'c']
        Qemu.img('info', '--output=json', img.toString()).json().snapshots*.name == ['a', 'c']
        readBack == a
        Qemu.rawBytes(img) == a
        Qemu.img(['check', img.toString()], false).exit == 0

        cleanup:
        shell?.close()
    }

    def "snapshot misuse: #code"() {
        given:
        def img = Fixtures.snapshots(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        when:
        shell.evaluate(code)

        then:
        def e = thrown(DslException)
        e.message == message.replace('IMG', img.toString())

        cleanup:
        shell?.close()

        where:
        code                              | message
        "snapshot('x')"                   | "unknown snapshot 'x'; known: a, b"
        "snapshot.diff 'a', 'zz'"         | "unknown snapshot 'zz'; known: a, b"
        "read 0, 1, from: 'q'"            | "unknown snapshot 'q'; known: a, b"
        "snapshot.create 'c'"             | "image is open read-only — use open 'IMG', writable: true"
        "snapshot.apply 'a'"              | "image is open read-only — use open 'IMG', writable: true"
        "snapshot.delete 'a'"             | "image is open read-only — use open 'IMG', writable: true"
        "export snapshot: 'a'"            | "export snapshot: 'a' needs to: 'file.raw' or to: 'file.qcow2'"
    }
}
