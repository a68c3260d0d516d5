package dev.qcow2.dsl

import dev.qcow2.testing.Sha256
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.security.MessageDigest

/** undoJournal: the last repair's journal as a table, read by the core's journal reader; checked against the image before the repair. */
class UndoJournalSpec extends Specification {
    @TempDir Path dir

    def "after repair #mode, undoJournal lists every range the repair changed with the bytes from before it"() {
        given:
        def img = Fixtures.leaked(dir)
        byte[] damaged = Files.readAllBytes(img)
        def shell = new DslShell()
        shell.evaluate("open '$img', writable: true")

        when:
        shell.evaluate("repair $mode")
        UndoJournalView j = shell.evaluate('undoJournal')
        byte[] repaired = Files.readAllBytes(img)

        then:
        j.size() > 0
        j.committed
        !j.undo_started
        j.original_length == (long) damaged.length
        j.file == img.resolveSibling(img.fileName.toString() + '-undo').toString()
        j.columnNames == ['index', 'file_offset', 'length', 'old_sha256', 'old_bytes', 'now_bytes']
        j.title.contains('repair finished')
        j.every { row ->
            int off = (int) row.file_offset, len = (int) row.length
            byte[] before = Arrays.copyOfRange(damaged, off, off + len)
            row.bytes == before &&
                    row.old_sha256 == MessageDigest.getInstance('SHA-256').digest(before).encodeHex().toString() &&
                    row.old_bytes == Arrays.copyOf(before, Math.min(16, len)).encodeHex().toString() &&
                    row.now_bytes == Arrays.copyOfRange(repaired, off, off + Math.min(16, len)).encodeHex().toString()
        }
        j*.index == (0..<j.size()).toList()

        when: 'undo restores exactly what the journal showed'
        shell.evaluate('undo()')

        then:
        Files.readAllBytes(img) == damaged

        cleanup:
        shell?.close()

        where:
        mode << ['leaks', 'all']
    }

    def "a journal row saves its old bytes"() {
        given:
        def img = Fixtures.leaked(dir)
        def shell = new DslShell()
        shell.evaluate("open '$img', writable: true")
        shell.evaluate('repair leaks')
        shell.binding.setVariable('out', dir.resolve('old.bin').toString())

        when:
        Record saved = shell.evaluate('undoJournal[0].save(to: out)')

        then:
        Files.readAllBytes(dir.resolve('old.bin')) == shell.evaluate('undoJournal[0].bytes')
        saved.length == Files.size(dir.resolve('old.bin'))

        cleanup:
        shell?.close()
    }

    def "the journal is readable from a read-only session and reading it changes nothing"() {
        given:
        def img = Fixtures.leaked(dir)
        def writer = new DslShell()
        writer.evaluate("open '$img', writable: true")
        writer.evaluate('repair leaks')
        writer.close()
        def journal = img.resolveSibling(img.fileName.toString() + '-undo')
        def before = [Sha256.of(img), Sha256.of(journal)]
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        when:
        Table j = shell.evaluate('undoJournal')

        then:
        j.size() > 0
        [Sha256.of(img), Sha256.of(journal)] == before

        cleanup:
        shell?.close()
    }

    def "bad input gives one line: #what"() {
        given:
        def img = Fixtures.leaked(dir)
        def journal = img.resolveSibling(img.fileName.toString() + '-undo')
        def shell = new DslShell()
        setup(shell, img, journal)

        when:
        shell.evaluate('undoJournal')

        then:
        def e = thrown(DslException)
        e.message == message.replace('J', journal.toString())

        cleanup:
        shell?.close()

        where:
        what                 | setup                                                                          | message
        'no image open'      | { s, i, j -> }                                                                 | "no image open — use open 'file.qcow2'"
        'no repair yet'      | { s, i, j -> s.evaluate("open '$i'") }                                         | "mixed.qcow2: no undo journal (J does not exist): no repair since the last undo, or its journal was removed"
        'undone already'     | { s, i, j -> s.evaluate("open '$i', writable: true"); s.evaluate('repair leaks'); s.evaluate('undo()') } | "mixed.qcow2: no undo journal (J does not exist): no repair since the last undo, or its journal was removed"
        'not a journal'      | { s, i, j -> Files.writeString(j, 'garbage that is no journal at all'); s.evaluate("open '$i'") } | 'J: not a qcow2 undo journal'
    }
}
