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
 * Snapshot-table damage (QEMU's qcow2_check_read_snapshot_table / qcow2_check_fix_snapshot_table)
 * repaired twice from identical bytes: by {@code qemu-img check -r MODE} and by {@link Repairer}.
 * Same exit code, fixed counters and snapshot-table messages; qemu-img check then judges both
 * alike, lists the same snapshots and reads the same guest disk (active and every snapshot);
 * {@code undo} restores the damaged bytes exactly.
 */
class SnapshotTableRepairSpec extends Specification {
    @TempDir Path dir

    def "-r #mode: #problem"() {
        given: 'an image with snapshots a and b (different contents), damaged, and a copy of it'
        Path theirs = dir.resolve('theirs.qcow2')
        Qemu.create(theirs, '8M', options)
        Qemu.io(theirs, 'write -P 1 0 128k')
        Qemu.img('snapshot', '-c', 'a', theirs.toString())
        Qemu.io(theirs, 'write -P 2 64k 64k')
        Qemu.img('snapshot', '-c', 'b', theirs.toString())
        Qemu.io(theirs, 'write -P 3 0 32k')
        damage(new Damage(theirs))
        Path ours = dir.resolve('ours.qcow2')
        Files.copy(theirs, ours)
        String damaged = Sha256.of(ours)

        when: 'qemu-img repairs one copy and we repair the other'
        def reference = Qemu.img(['check', '-r', mode, '--output=json', theirs.toString()], false)
        List<String> lines = []
        RepairResult result = Repairer.repair(ours, RepairMode.parse(mode), { lines << it })

        then: 'the exit code, fixed counters and snapshot-table messages are qemu-img\'s'
        result.exitCode() == reference.exit
        result.exitCode() == exit
        fixed(result) == RepairAgainstQemuSpec.fixedOf(reference)
        snapshotLines(lines.join('\n')) == snapshotLines(reference.err)

        and: 'qemu-img check judges both alike, and both list the same snapshots'
        QemuCheck.reference(ours).exit == QemuCheck.reference(theirs).exit
        snapshotList(ours) == snapshotList(theirs)

        and: 'where qemu-img could not repair, neither did we; else the guest sees the same disk, now and in every surviving snapshot'
        reference.exit == 1 ? Sha256.of(ours) == damaged
                : Qemu.img(['compare', theirs.toString(), ours.toString()], false).exit == 0
        survivingIds(theirs).every { Qemu.rawBytes(ours, it) == Qemu.rawBytes(theirs, it) }

        when: 'the repair is undone'
        if (result.journal().isPresent()) UndoJournal.undo(ours)

        then: 'the damaged bytes are back exactly'
        Sha256.of(ours) == damaged
        !Files.exists(UndoJournal.pathFor(ours))

        where:
        mode    | problem                                                  | options       | exit | damage
        'all'   | 'v3 entries without disk_size (8 and 0 bytes of extra data)' | null      | 0    | { Damage d -> d.editSnapshots { it[0].extra = it[0].extra[0..<8] as byte[]; it[1].extra = new byte[0] } }
        'leaks' | 'v3 entries without disk_size: left as corruptions'       | null          | 2    | { Damage d -> d.editSnapshots { it[1].extra = new byte[0] } }
        'all'   | 'v2 entries without extra data: nothing to fix'          | 'compat=0.10' | 0    | { Damage d -> d.editSnapshots { it.each { e -> e.extra = new byte[0] } } }
        'all'   | 'an entry with 2000 bytes of extra data: cut to 1024'    | null          | 0    | { Damage d -> d.editSnapshots { it[1].extra = bigExtra(it[1].extra, 2000) } }
        'leaks' | 'an entry with 2000 bytes of extra data: unreadable'     | null          | 1    | { Damage d -> d.editSnapshots { it[1].extra = bigExtra(it[1].extra, 2000) } }
        'all'   | 'extra_data_size 2000 over a short entry (table misread)' | null         | 0    | { Damage d -> d.put32(d.snapshots() + 36, 2000) }
        'all'   | 'a wrong but short snapshot count (1 of 2)'              | null          | 0    | { Damage d -> d.put32(60, 1) }
    }

    def "-r all discards the snapshots beyond 65536 as qemu-img does, lowering nb_snapshots first"() {
        given: 'a v2 image whose snapshot table is its last cluster, claiming 65539 entries (the rest read as zeros)'
        Path theirs = dir.resolve('theirs.qcow2')
        Qemu.create(theirs, '8M', 'compat=0.10')
        Qemu.io(theirs, 'write -P 1 0 128k')
        Qemu.img('snapshot', '-c', 'a', theirs.toString())
        Qemu.img('snapshot', '-c', 'b', theirs.toString())
        def d = new Damage(theirs)
        assert d.snapshots() + d.clusterSize() >= Files.size(theirs)
        d.put32(60, 65539)
        Path ours = dir.resolve('ours.qcow2')
        Files.copy(theirs, ours)
        String damaged = Sha256.of(ours)

        when:
        def reference = Qemu.img(['check', '-r', 'all', '--output=json', theirs.toString()], false)
        List<String> lines = []
        RepairResult result = Repairer.repair(ours, RepairMode.ALL, { lines << it })

        then: 'the same messages, counters and exit code (the 65536 entries kept still overrun the file: exit 2)'
        snapshotLines(lines.join('\n')) == ['Discarding 3 overhanging snapshots']
        snapshotLines(reference.err) == ['Discarding 3 overhanging snapshots']
        fixed(result) == RepairAgainstQemuSpec.fixedOf(reference)
        result.exitCode() == reference.exit
        new Damage(ours).u32(60) == 65536
        new Damage(theirs).u32(60) == 65536

        when:
        UndoJournal.undo(ours)

        then:
        Sha256.of(ours) == damaged
    }

    /** Extra data of {@code size} bytes: the known 24 kept, then a recognisable filler. */
    static byte[] bigExtra(byte[] known, int size) {
        byte[] b = new byte[size]
        System.arraycopy(known, 0, b, 0, Math.min(known.length, 24))
        for (int i = 24; i < size; i++) b[i] = (byte) (i * 7)
        b
    }

    private static Map fixed(RepairResult r) {
        r.failure().isPresent() ? [:] : ['leaks-fixed': r.leaksFixed(), 'corruptions-fixed': r.corruptionsFixed()]
    }

    /** The lines about the snapshot table (QEMU prints them first), without qemu-img's program prefix. */
    static List<String> snapshotLines(String stderr) {
        stderr.readLines().collect { it.replaceFirst(/^qemu-img: /, '') }
                .findAll { it =~ /^(Discarding|Repairing snapshot|ERROR snapshot table|ERROR failed to read the snapshot|You can force)/ }
    }

    static String snapshotList(Path image) {
        def r = Qemu.img(['snapshot', '-l', image.toString()], false)
        "exit=${r.exit}\n${r.out}"
    }

    static List<String> survivingIds(Path image) {
        def r = Qemu.img(['snapshot', '-l', image.toString()], false)
        if (r.exit != 0) return []
        r.out.readLines().drop(2).collect { it.substring(0, 10).trim() }.findAll { it }
    }
}
