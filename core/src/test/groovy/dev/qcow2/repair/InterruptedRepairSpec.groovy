package dev.qcow2.repair

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Damage
import dev.qcow2.check.QemuCheck
import dev.qcow2.storage.WritableFileStorage
import dev.qcow2.storage.WritableStorage
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.file.Files
import java.nio.file.Path

/**
 * A repair that dies after its N-th write to the image, for every N: the journal explains every
 * change made so far, so {@code undo} brings back the damaged image byte for byte.
 */
class InterruptedRepairSpec extends Specification {
    @TempDir Path dir

    static final long COPIED = 1L << 63

    def "a repair of '#problem' interrupted after any number of writes is undone exactly"() {
        given: 'a damaged image and the number of writes a full repair makes'
        Path original = dir.resolve('original.qcow2')
        Qemu.create(original, '8M')
        Qemu.io(original, 'write -P 7 0 256k')
        damage(new Damage(original))
        String damaged = Sha256.of(original)
        int total = writesOfFullRepair(original)

        expect: 'the repair writes something'
        total > 0

        and: 'after dying at each write, undo restores the damaged bytes'
        (0..<total).every { int n ->
            Path image = dir.resolve("crash-${n}.qcow2")
            Files.copy(original, image)
            try {
                WritableFileStorage.open(image).withCloseable { file ->
                    Repairer.repair(image, new FailingStorage(file, n), RepairMode.ALL, { })
                }
                assert false: "repair should have died at write $n"
            } catch (IOException expected) {
                assert expected.message.contains('simulated crash')
            }
            UndoJournal.undo(image)
            Sha256.of(image) == damaged && !Files.exists(UndoJournal.pathFor(image))
        }

        where:
        problem                                 | damage
        'refcount 0 but referenced (rebuild)'   | { Damage d -> d.put16(d.refblock() + 2 * 4, 0) }
        'leak plus OFLAG_COPIED missing'        | { Damage d -> d.put16(d.refblock() + 2 * 5, 3); d.put64(d.l2(), d.u64(d.l2()) & ~COPIED) }
        'refblock outside the image'            | { Damage d -> d.put64(d.reftable() + 8, 0x10000000) }
    }

    private int writesOfFullRepair(Path original) {
        Path probe = dir.resolve('probe.qcow2')
        Files.copy(original, probe)
        FailingStorage counting = null
        WritableFileStorage.open(probe).withCloseable { file ->
            counting = new FailingStorage(file, Integer.MAX_VALUE)
            assert Repairer.repair(probe, counting, RepairMode.ALL, { }).exitCode() == 0
        }
        counting.writes
    }

    /** Passes writes and truncations through until the limit, then throws, as a process dying would stop them. */
    static class FailingStorage implements WritableStorage {
        @Delegate(excludes = ['write', 'setLength', 'writable']) final WritableStorage target
        final int limit
        int writes

        FailingStorage(WritableStorage target, int limit) {
            this.target = target
            this.limit = limit
        }

        @Override
        void write(long offset, ByteBuffer src) throws IOException {
            step()
            target.write(offset, src)
        }

        @Override
        void setLength(long length) throws IOException {
            step()
            target.setLength(length)
        }

        private void step() {
            if (writes >= limit) throw new IOException('simulated crash')
            writes++
        }
    }
}
