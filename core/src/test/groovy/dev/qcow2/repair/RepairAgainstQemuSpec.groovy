package dev.qcow2.repair

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Damage
import dev.qcow2.check.QemuCheck
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * Each damage class of CheckCorruptionSpec that qemu-img can repair, repaired twice: by
 * {@code qemu-img check -r MODE} on one copy and by {@link Repairer} on the other. Exit code and
 * fixed counters equal qemu-img's, qemu-img check judges both copies alike, the guest contents
 * are equal, and {@code undo} restores the damaged bytes exactly.
 */
class RepairAgainstQemuSpec extends Specification {
    @TempDir Path dir

    static final long COPIED = 1L << 63

    def "-r #mode repairs '#problem' as qemu-img does, and undo restores it"() {
        given: 'a damaged image and a copy of it'
        Path theirs = dir.resolve('theirs.qcow2')
        Qemu.create(theirs, '8M', options)
        Qemu.io(theirs, io)
        snapshots.each { Qemu.img('snapshot', '-c', it, theirs.toString()) }
        damage(new Damage(theirs))
        Path ours = dir.resolve('ours.qcow2')
        Files.copy(theirs, ours)
        String damaged = Sha256.of(ours)

        when: 'qemu-img repairs one copy and we repair the other'
        def reference = Qemu.img(['check', '-r', mode, '--output=json', theirs.toString()], false)
        RepairResult result = Repairer.repair(ours, RepairMode.parse(mode), { })

        then: 'the same exit code and fixed counters'
        result.exitCode() == reference.exit
        fixed(result) == fixedOf(reference)

        and: 'qemu-img check judges our result as it judges its own'
        QemuCheck.reference(ours).exit == QemuCheck.reference(theirs).exit

        and: 'the guest sees the same disk in both'
        QemuCheck.reference(theirs).exit in [1, 2] || Qemu.img(['compare', theirs.toString(), ours.toString()], false).exit == 0

        when: 'the repair is undone'
        boolean journaled = Files.exists(UndoJournal.pathFor(ours))
        if (journaled) UndoJournal.undo(ours)

        then: 'the damaged bytes are back exactly and the journal is gone'
        journaled == result.journal().isPresent()
        Sha256.of(ours) == damaged
        !Files.exists(UndoJournal.pathFor(ours))

        where:
        [mode, problem, options, io, snapshots, damage] << cases()
    }

    def "-r #mode punches the clusters it frees, as qemu-img does, and undo restores their bytes (#what)"() {
        given: 'twin images made by the same commands, with clusters leaked by clearing L2 entries'
        def make = { String name ->
            Path p = dir.resolve(name)
            Qemu.create(p, '4M')
            Qemu.io(p, 'write -P 1 0 1M')
            damage(new Damage(p))
            p
        }
        Path theirs = make('theirs.qcow2')
        Path ours = make('ours.qcow2')
        String damaged = Sha256.of(ours)
        long blocksBefore = allocated(ours)

        when:
        Qemu.img(['check', '-r', mode, theirs.toString()], false)
        RepairResult result = Repairer.repair(ours, RepairMode.parse(mode), { })

        then: 'the same bytes; exactly the freed clusters are no longer allocated, as in the copy qemu-img repaired'
        result.exitCode() == 0
        Sha256.of(ours) == Sha256.of(theirs)
        allocated(ours) == blocksBefore - freedBytes
        allocated(ours) == allocated(theirs)
        Qemu.img('map', '--output=json', ours.toString()).out == Qemu.img('map', '--output=json', theirs.toString()).out

        when: 'the repair is undone'
        UndoJournal.undo(ours)

        then: 'every byte is back'
        Sha256.of(ours) == damaged

        where:
        mode     | what                         | freedBytes | damage
        'leaks'  | '8 data clusters'            | 512 << 10  | { Damage d -> (0..<8).each { d.put64(d.l2() + 8 * it, 0) } }
        'all'    | 'two runs of data clusters'  | 256 << 10  | { Damage d -> [1, 2, 5, 6].each { d.put64(d.l2() + 8 * it, 0) } }
    }

    private static long allocated(Path p) { dev.qcow2.testing.Extents.mappedBytes(p) }

    def "-r all rebuilds '#problem', where qemu-img 7.2's overlap check refuses its own new refblock"() {
        given: 'a damaged image whose guest contents are known'
        Path image = dir.resolve('damaged.qcow2')
        Qemu.create(image, '8M')
        Qemu.io(image, 'write -P 0x5a 0 256k')
        byte[] guest = Qemu.rawBytes(image)
        damage(new Damage(image))
        String damaged = Sha256.of(image)

        expect: 'qemu-img itself fails here (exit 1), leaving a copy of its own attempt aside'
        Path copy = dir.resolve('copy.qcow2')
        Files.copy(image, copy)
        Qemu.img(['check', '-r', 'all', copy.toString()], false).exit == 1

        when:
        RepairResult result = Repairer.repair(image, RepairMode.ALL, { })

        then: 'the refcount structure is rebuilt: qemu-img finds the image clean and reads the same guest bytes'
        result.exitCode() == 0
        result.corruptionsFixed() >= 1
        QemuCheck.reference(image).exit == 0
        Qemu.rawBytes(image) == guest

        when:
        UndoJournal.undo(image)

        then:
        Sha256.of(image) == damaged

        where:
        problem                        | damage
        'reftable entry reserved bits' | { Damage d -> d.or64(d.reftable(), 1) }
        'refblock not aligned'         | { Damage d -> d.add64(d.reftable(), 0x200) }
    }

    private static Map fixed(RepairResult r) {
        r.failure().isPresent() ? [:] : ['leaks-fixed': r.leaksFixed(), 'corruptions-fixed': r.corruptionsFixed()]
    }

    static Map fixedOf(Qemu.Run run) {
        if (!run.out.trim()) return [:]
        def json = run.json()
        ['leaks-fixed': (json['leaks-fixed'] ?: 0) as long, 'corruptions-fixed': (json['corruptions-fixed'] ?: 0) as long]
    }

    /** [problem, create options, qemu-io commands, snapshots, damage] per damage class, for both modes. */
    static List cases() {
        List rows = [
            ['L1 reserved bits', null, ['write 0 256k'], [], { it.or64(it.l1(), 2) }],
            ['L2 table not cluster aligned', null, ['write 0 256k'], [], { it.add64(it.l1(), 0x200) }],
            ['L2 entry reserved bits', null, ['write 0 256k'], [], { it.or64(it.l2(), 2) }],
            ['compressed cluster with COPIED', null, ['write -c 0 64k', 'write -c 64k 64k'], [], { it.or64(it.l2(), COPIED) }],
            ['data cluster not aligned', null, ['write 0 256k'], [], { it.add64(it.l2(), 0x200) }],
            ['preallocated zero cluster not aligned', null, ['write 0 256k'], [], { it.put64(it.l2(), (it.u64(it.l2()) | 1) + 0x200) }],
            ['snapshot L1 not cluster aligned', null, ['write 0 128k'], ['a', 'b'], { it.add64(it.snapshots(), 0x200) }],
            ['refblock outside the image', null, ['write 0 256k'], [], { it.put64(it.reftable() + 8, 0x10000000) }],
            ['refblock shared with an L2 table', null, ['write 0 256k'], [], { it.put64(it.reftable() + 8, it.l2()) }],
            ['leaked cluster', null, ['write 0 256k'], [], { it.put16(it.refblock() + 2 * 5, 3) }],
            ['leaked cluster (1-bit refcounts)', 'refcount_bits=1', ['write 0 256k'], [], { Damage d -> d.put64(d.refblock(), d.u64(d.refblock()) | (1L << 50)) }],
            ['refcount 0 but referenced', null, ['write 0 256k'], [], { it.put16(it.refblock() + 2 * 4, 0) }],
            ['refcount too low (2 expected)', null, ['write 0 128k'], ['a'], { it.put16(it.refblock() + 2 * 4, 1) }],
            ['two L2 entries share a cluster', null, ['write 0 256k'], [], { it.put64(it.l2() + 8, it.u64(it.l2())) }],
            ['L1 OFLAG_COPIED missing', null, ['write 0 256k'], [], { it.put64(it.l1(), it.u64(it.l1()) & ~COPIED) }],
            ['L2 OFLAG_COPIED missing', null, ['write 0 256k'], [], { it.put64(it.l2(), it.u64(it.l2()) & ~COPIED) }],
            ['L2 OFLAG_COPIED set on a shared cluster', null, ['write 0 128k'], ['a'], { it.or64(it.u64(it.l1()) & 0x00ff_ffff_ffff_fe00L, COPIED) }],
            ['leak plus OFLAG_COPIED missing', null, ['write 0 256k'], [], { it.put16(it.refblock() + 2 * 5, 3); it.put64(it.l2(), it.u64(it.l2()) & ~COPIED) }],
            ['no refcount table at all', null, ['write 0 64k'], [], { it.put32(56, 0) }],
            ['dirty bit set, otherwise clean', 'lazy_refcounts=on', ['write 0 64k'], [], { it.or64(72, 1) }],
            ['corrupt bit set with a leak', null, ['write 0 64k'], [], { it.or64(72, 2); it.put16(it.refblock() + 2 * 5, 1) }],
        ]
        ['leaks', 'all'].collectMany { m -> rows.collect { [m] + it } }
    }
}
