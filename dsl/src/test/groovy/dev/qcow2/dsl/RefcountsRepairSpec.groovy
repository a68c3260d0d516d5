package dev.qcow2.dsl

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/** refcounts (leaks, mismatches, histogram, of) against qemu-img check; repair leaks and undo. */
class RefcountsRepairSpec extends Specification {
    @TempDir Path dir

    static List<Long> qemuLeaks(Path img) {
        def r = Qemu.img(['check', img.toString()], false)
        ((r.out + r.err) =~ /Leaked cluster (\d+) /).collect { it[1] as long }
    }

    def "refcounts.leaks lists the clusters qemu-img check reports as leaked, and reading changes nothing"() {
        given:
        def img = Fixtures.leaked(dir)
        def before = Sha256.of(img)
        def leaked = qemuLeaks(img)
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        when:
        Refcounts refcounts = shell.evaluate('refcounts')
        Table histogram = shell.evaluate('refcounts.histogram')
        Record ofLeak = shell.evaluate("refcounts.of(${leaked[0]})")
        Record ofHeader = shell.evaluate('refcounts.of(0)')
        Record check = shell.evaluate('check')

        then:
        leaked.size() == 1
        refcounts.leaks*.cluster == leaked
        refcounts.mismatches*.cluster == leaked
        refcounts.leaks[0].status == 'leaked'
        histogram.collect { it.clusters }.sum() == refcounts.size()
        histogram.collectEntries { [(it.refcount): it.clusters] } == refcounts.countBy { it.refcount }
        ofLeak.status == 'leaked' && ofLeak.used_by == []
        ofHeader.used_by == ['header']
        check.leaks == 1L && check.exit_code == 3 && check.findings[0].type == 'leaked-cluster'

        cleanup:
        shell?.close()
        assert Sha256.of(img) == before
    }

    def "clusters under an unaligned refcount block are unreadable, the ones qemu-img check cannot get"() {
        given: 'reftable entry 1 of a 1k-cluster image points half a cluster past its block'
        def img = Qemu.create(dir.resolve('u.qcow2'), '4M', 'cluster_size=1024')
        Qemu.io(img, 'write -P 1 0 1M')
        long reftable = new RandomAccessFile(img.toFile(), 'r').withCloseable { it.seek(48); it.readLong() }
        new RandomAccessFile(img.toFile(), 'rw').withCloseable { f ->
            f.seek(reftable + 8); long e = f.readLong(); assert e != 0
            f.seek(reftable + 8); f.writeLong(e + 512)
        }
        def r = Qemu.img(['check', img.toString()], false)
        def qemuUnreadable = ((r.out + r.err) =~ /Can't get refcount for cluster (\d+): Input\/output error/).collect { it[1] as long }
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        when:
        Refcounts refcounts = shell.evaluate('refcounts')
        def unreadable = refcounts.findAll { it.status == 'unreadable' }

        then:
        !qemuUnreadable.isEmpty()
        unreadable*.cluster == qemuUnreadable
        unreadable.every { it.refcount == null && it.cluster >= 512 && it.cluster < 1024 }

        cleanup:
        shell?.close()
    }

    def "every cluster of a clean image is referenced as often as its refcount says, and of() names its user"() {
        given:
        def img = Fixtures.snapshots(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        when:
        Refcounts refcounts = shell.evaluate('refcounts')
        long shared = shell.evaluate("walk(l2, at: 0x30000, from: 'a')[0].host_offset") >> 16

        then:
        !refcounts.mismatches
        refcounts.every { it.status == 'ok' }
        shell.evaluate("refcounts.of($shared)").used_by == ["data of snapshot 'a' for guest 0x30000"]
        shell.evaluate('refcounts.of(0)').used_by == ['header']

        cleanup:
        shell?.close()
    }

    def "repair leaks leaves an image qemu-img check finds clean; undo restores every byte"() {
        given:
        def img = Fixtures.leaked(dir)
        def damaged = Sha256.of(img)
        def shell = new DslShell()
        shell.evaluate("open '$img', writable: true")

        when:
        Record repaired = shell.evaluate('repair leaks')

        then:
        repaired.leaks_fixed == 1L
        repaired.leaks_left == 0L
        repaired.exit_code == 0
        Qemu.img(['check', img.toString()], false).exit == 0
        !shell.evaluate('refcounts.leaks')

        when:
        Record undone = shell.evaluate('undo()')

        then:
        undone.ranges_restored > 0
        shell.evaluate('refcounts.leaks').size() == 1

        when:
        shell.close()

        then:
        Sha256.of(img) == damaged

        cleanup:
        shell?.close()
    }

    def "repair and undo need a writable session"() {
        given:
        def img = Fixtures.leaked(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        when:
        shell.evaluate(code)

        then:
        def e = thrown(DslException)
        e.message == "image is open read-only — use open '$img', writable: true"

        cleanup:
        shell?.close()

        where:
        code << ['repair leaks', 'repair all', 'undo()']
    }

    def "undo without a repair says there is nothing to undo"() {
        given:
        def img = Fixtures.mixed(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img', writable: true")

        when:
        shell.evaluate('undo()')

        then:
        def e = thrown(DslException)
        e.message.startsWith("$img: no undo journal")

        cleanup:
        shell?.close()
    }
}
