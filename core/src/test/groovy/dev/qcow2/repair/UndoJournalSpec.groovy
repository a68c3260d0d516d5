package dev.qcow2.repair

import dev.qcow2.testing.Sha256

import dev.qcow2.Qcow2Exception
import dev.qcow2.testing.Damage
import dev.qcow2.check.QemuCheck
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** The undo journal's guarantees: it refuses to undo over later changes, survives a torn tail, and is never overwritten. */
class UndoJournalSpec extends Specification {
    @TempDir Path dir

    Path leakyImage() {
        Path image = dir.resolve('leaky.qcow2')
        Qemu.create(image, '8M')
        Qemu.io(image, 'write 0 256k')
        def d = new Damage(image)
        d.put16(d.refblock() + 2 * 5, 3)
        image
    }

    def "undo refuses when the image changed after the repair, and leaves both files alone"() {
        given:
        Path image = leakyImage()
        Repairer.repair(image, RepairMode.LEAKS, { })
        Qemu.io(image, 'write 1M 64k')   // allocates: refcounts the repair wrote change again
        String changed = Sha256.of(image)

        when:
        UndoJournal.undo(image)

        then:
        def e = thrown(Qcow2Exception)
        e.message.contains('changed after the repair')
        Sha256.of(image) == changed
        Files.exists(UndoJournal.pathFor(image))
    }

    def "a torn last record (its write never happened) is ignored by undo"() {
        given:
        Path image = leakyImage()
        String damaged = Sha256.of(image)
        Repairer.repair(image, RepairMode.LEAKS, { })
        Path journal = UndoJournal.pathFor(image)
        byte[] torn = new byte[20]
        torn[0] = UndoJournal.OLD_BYTES
        torn[7] = 100          // claims 100 bytes of data, but the file ends first
        Files.write(journal, torn, java.nio.file.StandardOpenOption.APPEND)

        when:
        UndoJournal.undo(image)

        then:
        Sha256.of(image) == damaged
    }

    def "a damaged record in the middle of the journal is refused"() {
        given:
        Path image = leakyImage()
        Repairer.repair(image, RepairMode.LEAKS, { })
        Path journal = UndoJournal.pathFor(image)
        byte[] bytes = Files.readAllBytes(journal)
        bytes[UndoJournal.HEADER_BYTES + UndoJournal.RECORD_HEADER] ^= 1   // first record's data
        Files.write(journal, bytes)

        when:
        UndoJournal.undo(image)

        then:
        def e = thrown(Qcow2Exception)
        e.message.contains('damaged')
    }

    def "a well-formed record with impossible contents is refused in one line (#what)"() {
        given: 'a journal whose last record has a valid checksum but #what'
        Path image = leakyImage()
        Repairer.repair(image, RepairMode.LEAKS, { })
        Path journal = UndoJournal.pathFor(image)
        String before = Sha256.of(image)
        def rec = java.nio.ByteBuffer.allocate(UndoJournal.RECORD_HEADER + data + 4)
        rec.put(type).put(new byte[3]).putInt(data).putLong(offset).put(new byte[data])
        rec.putInt((int) UndoJournal.crc(rec.array(), 0, UndoJournal.RECORD_HEADER + data))
        Files.write(journal, rec.array(), java.nio.file.StandardOpenOption.APPEND)

        when:
        UndoJournal.read(journal)

        then:
        def e = thrown(Qcow2Exception)
        e.message.contains(message)
        Sha256.of(image) == before

        where:
        what                         | type                  | data | offset | message
        'a 4-byte commit record'     | UndoJournal.COMMIT    | 4    | 0      | 'commit record at byte'
        'a negative file offset'     | UndoJournal.OLD_BYTES | 16   | -512   | 'negative file offset'
    }

    def "a repair refuses to start while an earlier repair's journal exists, without touching the image"() {
        given:
        Path image = leakyImage()
        Repairer.repair(image, RepairMode.LEAKS, { })
        new Damage(image).with { put16(refblock() + 2 * 5, 3) }
        String again = Sha256.of(image)

        when:
        Repairer.repair(image, RepairMode.LEAKS, { })

        then:
        def e = thrown(Qcow2Exception)
        e instanceof PendingUndoException
        e.message.contains('already exists')
        Sha256.of(image) == again
    }

    def "a clean image is not changed and gets no journal"() {
        given:
        Path image = dir.resolve('clean.qcow2')
        Qemu.create(image, '8M')
        Qemu.io(image, 'write 0 256k')
        String sha = Sha256.of(image)

        when:
        RepairResult r = Repairer.repair(image, RepairMode.ALL, { })

        then:
        r.exitCode() == 0
        !r.fixedAnything()
        r.journal().isEmpty()
        !Files.exists(UndoJournal.pathFor(image))
        Sha256.of(image) == sha
    }

    def "undo without a journal says there is nothing to undo"() {
        given:
        Path image = leakyImage()

        when:
        UndoJournal.undo(image)

        then:
        def e = thrown(Qcow2Exception)
        e.message.contains('nothing to undo')
    }

    def "refcounts of every width are repaired (refcount_bits=#bits)"() {
        given: 'cluster 5 (discarded, so free) given refcount 1 by hand, as a leak'
        Path image = dir.resolve("w${bits}.qcow2")
        Qemu.create(image, '8M', "refcount_bits=${bits}")
        Qemu.io(image, 'write 0 256k', 'discard 0 64k')
        long refblock = new Damage(image).refblock()
        long bit = 5L * bits + (bits >= 8 ? bits - 8 : 0)   // entry 12's lowest bit (big-endian above 8 bits)
        new RandomAccessFile(image.toFile(), 'rw').withCloseable { f ->
            long at = refblock + bit.intdiv(8)
            f.seek(at); int b = f.read()
            f.seek(at); f.write(bits >= 8 ? 1 : b | (1 << (bit % 8)))
        }
        Path copy = dir.resolve("w${bits}-ref.qcow2")
        Files.copy(image, copy)
        def theirs = Qemu.img(['check', '-r', 'leaks', '--output=json', copy.toString()], false)

        when:
        RepairResult r = Repairer.repair(image, RepairMode.LEAKS, { })

        then:
        theirs.json()['leaks-fixed'] == 1
        r.leaksFixed() == 1
        r.exitCode() == 0
        QemuCheck.reference(image).exit == 0

        where:
        bits << [1, 2, 4, 8, 16, 32, 64]
    }
}
