package dev.qcow2.repl

import dev.qcow2.dsl.DslShell
import spock.lang.AutoCleanup
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** Completion candidates for the word under the cursor, on the demo image (two snapshots). */
class CompletionSpec extends Specification {
    @Shared @TempDir Path dir
    @Shared @AutoCleanup DslShell shell = new DslShell()
    @Shared DslCompleter completer = new DslCompleter(shell)

    def setupSpec() {
        shell.session.open(DemoImage.create(dir).toString())
        shell.evaluate("leaks = refcounts.leaks; facts = info")
        Files.createDirectories(dir.resolve('sub'))
        Files.writeString(dir.resolve('sub/notes.groovy'), '')
    }

    List<String> complete(String line) {
        completer.candidates(DslParser.wordAt(line, line.length()))*.value().sort()
    }

    def "#line completes to #expected"() {
        expect:
        complete(line).findAll { it.startsWith(DslParser.wordAt(line, line.length()).word()) } == expected.sort()

        where:
        line                          || expected
        'refcounts.'                  || ['refcounts.leaks', 'refcounts.mismatches', 'refcounts.histogram', 'refcounts.of']
        'refcounts.h'                 || ['refcounts.histogram']
        'snapshot.d'                  || ['snapshot.diff', 'snapshot.delete']
        'wa'                          || ['walk']
        'x = writeC'                  || ['writeCompressed']
        're'                          || ['read', 'refcounts', 'repair']
        'lea'                         || ['leaks']                       // a variable of the session
        'leaks.s'                     || ['leaks.size()', 'leaks.sort']   // a table's members
        'facts.virtual'               || ['facts.virtual_size']           // a record's fields
        ":q"                          || [':quit']
        "snapshot('"                  || ['after', 'before']
        "snapshot.diff 'before', 'a"  || ['after']
        "read 0, 16, from: 'b"        || ['before']
        'nosuch.'                     || []
    }

    def "file names complete inside quotes, directories with a slash"() {
        expect:
        complete("open '$dir/") .containsAll(["$dir/demo.qcow2".toString(), "$dir/base.qcow2".toString(), "$dir/sub/".toString()])
        complete("open '$dir/sub/n") == ["$dir/sub/notes.groovy".toString()]
    }

    def "the word under the cursor stops at delimiters, or at the opening quote inside a string"() {
        expect:
        DslParser.wordAt(line, line.length()).word() == word
        DslParser.wordAt(line, line.length()).inString() == inString

        where:
        line                        || word          | inString
        'walk(l2'                   || 'l2'          | false
        'x = refcounts.le'          || 'refcounts.le' | false
        "open 'dir/a b"             || 'dir/a b'     | true
        "open 'a' ; read"           || 'read'        | false
        "write 0, 'it\\'s"          || "it\\'s"      | true
    }
}
