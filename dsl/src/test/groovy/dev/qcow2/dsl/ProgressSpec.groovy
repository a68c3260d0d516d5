package dev.qcow2.dsl

import dev.qcow2.testing.Sha256

import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * Progress of long commands (check, export, find, snapshot.diff) reported to the session's
 * listener, and their cooperative cancellation: an interrupted thread stops with "cancelled"
 * at the next chunk, and the session goes on working.
 */
class ProgressSpec extends Specification {
    @TempDir Path dir

    /** Every (phase, done, total) the listener got while {@code command} ran. */
    static List<List> progressOf(Session s, Closure command) {
        List<List> calls = []
        s.progress = { String phase, long done, long total -> calls << [phase, done, total] }
        command()
        s.progress = null
        calls
    }

    def "#phase reports progress that starts at 0, never goes down, and ends at the total"() {
        given:
        def img = fixture(dir)
        def before = Sha256.of(img)
        def s = new Session()
        s.open(img.toString())

        when:
        def calls = progressOf(s) { command(s, dir) }
        def totals = calls*.getAt(2).unique()

        then:
        calls.size() >= 2
        calls*.getAt(0).every { it == phase }
        totals.size() == 1 && totals[0] > 0
        calls[0][1] == 0
        calls[-1][1] == totals[0]
        (1..<calls.size()).every { calls[it][1] > calls[it - 1][1] }
        calls.every { it[1] <= it[2] }

        cleanup:
        s?.close()
        assert Sha256.of(img) == before

        where:
        phase    | fixture             | command
        'check'  | Fixtures.&snapshots | { Session x, Path d -> assert x.check.clean }
        'export' | Fixtures.&mixed     | { Session x, Path d -> assert x.export(raw: d.resolve('out.raw').toString()).data_bytes > 0 }
        'find'   | Fixtures.&mixed     | { Session x, Path d -> assert x.find('NEEDLE').size() == 1 }
        'diff'   | Fixtures.&snapshots | { Session x, Path d -> assert x.snapshot.diff('a', 'b').size() == 4 }
    }

    def "export's total is the disk's size in guest bytes"() {
        given:
        def img = Fixtures.mixed(dir)
        def s = new Session()
        s.open(img.toString())

        when:
        Record r = null
        def calls = progressOf(s) { r = s.export(raw: dir.resolve('out.raw').toString()) }

        then:
        calls[-1][2] == r.size
        calls[-1][1] == r.size

        cleanup:
        s?.close()
    }

    def "an interrupted #phase stops with 'cancelled' and the session still reads the image"() {
        given: 'the listener interrupts the thread at the first report, as Ctrl-C in the REPL would'
        def img = fixture(dir)
        def before = Sha256.of(img)
        def s = new Session()
        s.open(img.toString())
        s.progress = { String p, long done, long total -> Thread.currentThread().interrupt() }

        when:
        command(s, dir)

        then:
        def e = thrown(DslException)
        e.message == 'cancelled'
        !Thread.currentThread().isInterrupted()

        when:
        s.progress = null

        then:
        s.info.virtual_size == 1048576L
        s.read(0, 16).toString().length() > 0

        cleanup:
        s?.close()
        assert Sha256.of(img) == before

        where:
        phase    | fixture             | command
        'check'  | Fixtures.&snapshots | { Session x, Path d -> x.check }
        'export' | Fixtures.&mixed     | { Session x, Path d -> x.export(raw: d.resolve('out.raw').toString()) }
        'find'   | Fixtures.&mixed     | { Session x, Path d -> x.find('NEEDLE') }
        'diff'   | Fixtures.&snapshots | { Session x, Path d -> x.snapshot.diff('a', 'b') }
    }

    def "a cancelled export leaves no partly written file"() {
        given:
        def img = Fixtures.mixed(dir)
        def s = new Session()
        s.open(img.toString())
        def out = dir.resolve('out.raw')
        s.progress = { String p, long done, long total -> if (done > 0) Thread.currentThread().interrupt() }

        when:
        s.export(raw: out.toString())

        then:
        def e = thrown(DslException)
        e.message == 'cancelled'
        !Files.exists(out)

        cleanup:
        s?.close()
    }
}
