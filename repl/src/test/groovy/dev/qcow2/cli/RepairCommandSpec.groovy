package dev.qcow2.cli

import dev.qcow2.repair.RefcountEditor

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Qemu
import picocli.CommandLine
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * {@code qcow2 check -r leaks|all} and {@code qcow2 undo}: the same stdout and exit code as
 * qemu-img check -r on a copy of the same damaged image, the journal announced on stderr, and
 * undo restoring the damaged bytes.
 */
class RepairCommandSpec extends Specification {
    @TempDir Path dir

    static class Result { int exit; String out; String err }

    Result qcow2(String... args) {
        def out = new StringWriter(), err = new StringWriter()
        def cli = Main.commandLine(false, args)
        cli.setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
        int exit = cli.execute(args)
        new Result(exit: exit, out: out.toString(), err: err.toString())
    }

    /** An image with a leaked cluster (refcount 3 on a cluster referenced once) and, optionally, a missing COPIED flag. */
    Path damaged(String name, boolean copiedToo = false) {
        Path p = dir.resolve(name)
        Qemu.create(p, '8M')
        Qemu.io(p, ['write -P 3 0 256k'])
        new RandomAccessFile(p.toFile(), 'rw').withCloseable { f ->
            f.seek(48); long rt = f.readLong(); f.seek(rt); long rb = f.readLong()
            f.seek(rb + 2 * 5); f.writeShort(3)
            if (copiedToo) {
                f.seek(40); long l1 = f.readLong(); f.seek(l1); long l2 = f.readLong() & 0x00ff_ffff_ffff_fe00L
                f.seek(l2); long e = f.readLong(); f.seek(l2); f.writeLong(e & ~(1L << 63))
            }
        }
        p
    }

    Path copyOf(Path p) {
        Path c = dir.resolve('qemu-' + p.fileName)
        Files.copy(p, c)
        c
    }

    def "-r #mode prints qemu-img's human report and exit code, and announces the journal"() {
        given:
        Path ours = damaged('human.qcow2', true)
        Path theirs = copyOf(ours)
        def ref = Qemu.img(['check', '-r', mode, theirs.toString()], false)

        when:
        def r = qcow2('check', '-r', mode, ours.toString())

        then:
        r.exit == ref.exit
        r.out == ref.out
        r.out.startsWith('The following inconsistencies were found and repaired:')
        r.err.contains("Undo journal: ${ours}-undo (restore with: qcow2 undo ${ours})")
        Files.exists(dir.resolve('human.qcow2-undo'))

        where:
        mode << ['leaks', 'all']
    }

    def "-r #mode --output=json has qemu-img's counters, including leaks-fixed and corruptions-fixed"() {
        given:
        Path ours = damaged('json.qcow2', true)
        Path theirs = copyOf(ours)
        def ref = Qemu.img(['check', '-r', mode, '--output=json', theirs.toString()], false)

        when:
        def r = qcow2('check', '-r', mode, '--output=json', ours.toString())
        Map json = new groovy.json.JsonSlurper().parseText(r.out) as Map
        Map expected = ref.json() as Map

        then:
        r.exit == ref.exit
        json.subMap(expected.keySet() - 'filename') == expected.subMap(expected.keySet() - 'filename')
        expected['leaks-fixed'] == 1

        where:
        mode << ['leaks', 'all']
    }

    def "-r leaks on an image that needs a refcount rebuild fails like qemu-img and changes nothing"() {
        given: 'a referenced cluster with refcount 0'
        Path ours = damaged('rebuild.qcow2')
        new RandomAccessFile(ours.toFile(), 'rw').withCloseable { f ->
            f.seek(48); long rt = f.readLong(); f.seek(rt); long rb = f.readLong()
            f.seek(rb + 2 * 4); f.writeShort(0)
        }
        Path theirs = copyOf(ours)
        String before = Sha256.of(ours)
        def ref = Qemu.img(['check', '-r', 'leaks', theirs.toString()], false)

        when:
        def r = qcow2('check', '-r', 'leaks', ours.toString())

        then:
        ref.exit == 1
        r.exit == 1
        r.out == ref.out
        r.err.contains('ERROR need to rebuild refcount structures')
        r.err.contains('Check failed: Input/output error')
        Sha256.of(ours) == before
        !Files.exists(dir.resolve('rebuild.qcow2-undo'))
    }

    def "qcow2 undo restores the image repaired by check -r all, then has nothing left to undo"() {
        given:
        Path p = damaged('undo.qcow2', true)
        String before = Sha256.of(p)
        assert qcow2('check', '-r', 'all', p.toString()).exit == 0

        when:
        def undo = qcow2('undo', p.toString())

        then:
        undo.exit == 0
        undo.out.startsWith("Restored ${p} to its state before the repair")
        Sha256.of(p) == before
        !Files.exists(dir.resolve('undo.qcow2-undo'))

        when:
        def again = qcow2('undo', p.toString())

        then:
        again.exit == 1
        again.err.readLines().size() == 1
        again.err.contains('nothing to undo')
    }

    def "a second repair while the first one's journal exists is refused in one line that names qcow2 undo"() {
        given:
        Path p = damaged('twice.qcow2', true)
        assert qcow2('check', '-r', 'all', p.toString()).exit == 0
        RefcountEditor.leakOneCluster(p, new byte[0])       // something new to repair
        String damagedAgain = Sha256.of(p)

        when:
        def again = qcow2('check', '-r', 'leaks', p.toString())

        then:
        again.exit == 1
        again.err.readLines().count { it.startsWith('qcow2:') } == 1     // after the check's findings
        again.err.readLines().last() == "qcow2: ${p}-undo: an undo journal already exists: undo that repair first or remove the journal (qcow2 undo IMAGE)".toString()
        Sha256.of(p) == damagedAgain
    }

    def "undo refuses after the repaired image was written to, in one line"() {
        given:
        Path p = damaged('changed.qcow2')
        assert qcow2('check', '-r', 'leaks', p.toString()).exit == 0
        Qemu.io(p, ['write 2M 64k'])
        String changed = Sha256.of(p)

        when:
        def r = qcow2('undo', p.toString())

        then:
        r.exit == 1
        r.err.readLines().size() == 1
        r.err.contains('the image changed after the repair')
        Sha256.of(p) == changed
    }
}
