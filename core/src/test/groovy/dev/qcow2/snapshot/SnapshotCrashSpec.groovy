package dev.qcow2.snapshot

import dev.qcow2.testing.Qemu
import dev.qcow2.write.CrashingStorage
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.time.Instant

/**
 * A crash at many mutating calls of a snapshot create, apply and delete (the call stops and
 * nothing after it happens; or everything since the last flush is lost as well) leaves an image
 * that qemu-img opens and checks without corruption (leaks allowed), in the old or the new
 * snapshot state as a whole: create and delete never change the active disk, apply leaves it
 * at the old active content or the snapshot's, and a listed snapshot always reads as taken.
 *
 * <p>One finding is tolerated, because no write order can avoid it: once a reference is
 * dropped (refcount 2 to 1) the cluster's OFLAG_COPIED bit is set in a later write, and
 * qemu-img counts a missing bit ("OFLAG_COPIED ... refcount=1") as a corruption. A missing bit
 * is safe (the next write copies the cluster); a bit set on a shared cluster would not be, and
 * is never accepted here.
 */
class SnapshotCrashSpec extends Specification {
    @TempDir Path dir
    @Shared Path base = Files.createTempDirectory('snapcrash').resolve('base.qcow2')
    @Shared byte[] old, active

    static final Instant DATE = Instant.ofEpochSecond(1_700_000_000)
    static final Map<String, Closure> OPS = [
            create: { Snapshots s -> s.create('new', DATE) },
            apply : { Snapshots s -> s.apply('old') },
            delete: { Snapshots s -> s.delete('old') },
    ]

    def setupSpec() {
        // 512-byte clusters: eight L2 tables, so the steps of each operation are many and distinct
        Qemu.create(base, '256k', 'cluster_size=512')
        Qemu.io(base, 'write -P 0x31 0 256k')
        Qemu.img('snapshot', '-c', 'old', base.toString())
        Qemu.io(base, 'write -P 0x32 8k 40k', 'write -P 0x33 100k 1536', 'write -z 200k 4k')
        old = Qemu.rawBytes(base, 'old')
        active = Qemu.rawBytes(base)
    }

    def cleanupSpec() { base.parent.toFile().deleteDir() }

    def "#op: a crash at call #crashAt of #total (#mode) leaves the old or the new state"() {
        given:
        def storage = new CrashingStorage(Files.readAllBytes(base), crashAt, mode)

        when:
        Snapshots.open(storage).withCloseable { OPS[op](it) }

        then:
        thrown(CrashingStorage.Crash)

        when:
        Path crashed = dir.resolve('crashed.qcow2')
        Files.write(crashed, storage.afterCrash())
        def check = Qemu.img(['check', crashed.toString()], false)
        def names = Qemu.img('snapshot', '-l', crashed.toString()).out.readLines().drop(2).collect { it.substring(10, 27).trim() }

        then: 'no corruption qemu-img cares about'
        check.exit in [0, 3] || check.exit == 2 && onlyMissingCopiedBits(check.err)

        and: 'the snapshot table is the old one or the new one, and each listed snapshot reads as taken'
        names in EXPECTED_LISTS[op]
        !names.contains('old') || Qemu.rawBytes(crashed, 'old') == old
        !names.contains('new') || Qemu.rawBytes(crashed, 'new') == active

        and: 'the active disk is the old one, or (apply only) the snapshot'
        Qemu.rawBytes(crashed) == active || op == 'apply' && Qemu.rawBytes(crashed) == old

        where:
        [op, crashAt, total, mode] << crashPoints()
    }

    static final Map<String, List<List<String>>> EXPECTED_LISTS = [
            create: [['old'], ['old', 'new']], apply: [['old']], delete: [['old'], []]]

    static boolean onlyMissingCopiedBits(String stderr) {
        def errors = stderr.readLines().findAll { it.startsWith('ERROR') }
        !errors.isEmpty() && errors.every { it ==~ /ERROR OFLAG_COPIED (data|L2) cluster: .* refcount=1/ }
    }

    /** About 12 calls spread over each operation, plus its last three, in both crash modes. */
    List<List> crashPoints() {
        OPS.keySet().collectMany { String op ->
            def probe = new CrashingStorage(Files.readAllBytes(base), Long.MAX_VALUE, CrashingStorage.Mode.STOP)
            Snapshots.open(probe).withCloseable { OPS[op](it) }
            long total = probe.calls
            long step = Math.max(1, total.intdiv(12))
            def points = ((1..total).findAll { it % step == 1 % step } + ((Math.max(1, total - 2))..total)).unique()
            CrashingStorage.Mode.values().collectMany { m -> points.collect { [op, it, total, m] } }
        }
    }
}
