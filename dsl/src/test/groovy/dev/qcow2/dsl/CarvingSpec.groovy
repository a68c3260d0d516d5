package dev.qcow2.dsl

import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import groovy.json.JsonSlurper
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** clusters.unreferenced and carve to: over an image whose deleted snapshot left its tables and data behind; read only. */
class CarvingSpec extends Specification {
    @TempDir Path dir

    /** A snapshot taken over 256k of 0xaa, guest 0 rewritten, the snapshot deleted without discard passthrough. */
    Path snapshotDeleted() {
        def img = Qemu.create(dir.resolve('snap.qcow2'), '4M')
        Qemu.io(img, 'write -P 0xaa 0 256k')
        Qemu.img('snapshot', '-c', 's1', img.toString())
        Qemu.io(img, 'write -P 0xbb 0 64k')
        Qemu.img('snapshot', '-d', 's1', '--image-opts', "driver=qcow2,file.filename=$img,pass-discard-snapshot=off".toString())
        img
    }

    def "clusters.unreferenced: one row per run with kind, guest offset and the deleted snapshot; .bytes reads the run"() {
        given:
        def img = snapshotDeleted()
        def before = Sha256.of(img)
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        when:
        Table t = shell.evaluate('clusters.unreferenced')
        def byKind = t.collectEntries { [(it.kind): it] }

        then:
        byKind.keySet() == ['l2-table', 'freed-data', 'l1-table', 'snapshot-table'] as Set
        byKind['l2-table'].guest_offset == 0L
        byKind['l2-table'].snapshot == 's1'
        byKind['freed-data'].snapshot == 's1'
        byKind['freed-data'].status == 'free'
        (shell.evaluate("clusters.unreferenced.find { it.kind == 'freed-data' }.bytes") as byte[]) == ([(byte) 0xaa] * 65536) as byte[]

        cleanup:
        shell?.close()
        assert Sha256.of(img) == before
    }

    def "carve to: writes the runs and manifest.json and says what it wrote; a non-empty directory is refused in one line"() {
        given:
        def img = snapshotDeleted()
        def out = dir.resolve('carved')
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        when:
        Record r = shell.evaluate("carve to: '$out'")

        then:
        r.runs == 4
        r.free == 4
        new JsonSlurper().parse(out.resolve('manifest.json').toFile()).runs.size() == 4
        Files.list(out).count() == 5

        when:
        shell.evaluate("carve to: '$out'")

        then:
        def e = thrown(DslException)
        e.message.contains('directory is not empty')
        !e.message.contains('\n')

        cleanup:
        shell?.close()
    }
}
