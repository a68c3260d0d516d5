package dev.qcow2.repl

import dev.qcow2.dsl.DslShell
import dev.qcow2.dsl.FrontEnd
import spock.lang.AutoCleanup
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** The REPL's completion (the engine's, {@code DslShell.complete}) for the word under the cursor, on the demo image (two snapshots). */
class CompletionSpec extends Specification {
    @Shared @TempDir Path dir
    @Shared @AutoCleanup DslShell shell = new DslShell()

    def setupSpec() {
        shell.frontEnd = FrontEnd.REPL
        shell.session.open(DemoImage.create(dir).toString())
        shell.evaluate("leaks = refcounts.leaks; facts = info")
        Files.createDirectories(dir.resolve('sub'))
        Files.writeString(dir.resolve('sub/notes.groovy'), '')
    }

    List<String> complete(String line) {
        shell.complete(line, line.length()).values.sort()
    }

    def "#line completes to #expected"() {
        expect:
        complete(line) == expected.sort()

        where:
        line                          || expected
        'refcounts.h'                 || ['refcounts.histogram']
        'refcounts.mis'               || ['refcounts.mismatches']
        'snapshot.d'                  || ['snapshot.diff', 'snapshot.delete']
        'wa'                          || ['walk']
        'x = writeC'                  || ['writeCompressed']
        're'                          || ['read', 'refcounts', 'repair']
        'lea'                         || ['leaks']                       // a command and a variable of the session: once
        'leaks.si'                    || ['leaks.size()']                 // a table's members
        'leaks.so'                    || ['leaks.sort']
        'facts.virtual'               || ['facts.virtual_size']           // a record's fields
        'refcounts.leaks.findA'       || ['refcounts.leaks.findAll']      // a command's result type, through a property
        ":q"                          || [':quit']
        "snapshot('"                  || ['after', 'before']
        "snapshot.diff 'before', 'a"  || ['after']
        "read 0, 16, from: 'b"        || ['before']
        'nosuch.'                     || []
    }

    def "refcounts. offers leaks, mismatches, histogram and of, and a table's members"() {
        expect:
        complete('refcounts.').containsAll(['refcounts.leaks', 'refcounts.mismatches', 'refcounts.histogram', 'refcounts.of',
                                            'refcounts.size()', 'refcounts.findAll', 'refcounts.toJson()', 'refcounts.each'])
    }

    def "file names complete inside quotes, directories with a slash"() {
        expect:
        complete("open '$dir/") .containsAll(["$dir/demo.qcow2".toString(), "$dir/base.qcow2".toString(), "$dir/sub/".toString()])
        complete("open '$dir/sub/n") == ["$dir/sub/notes.groovy".toString()]
    }

    def "JLine's word is the engine's: Tab replaces exactly what the engine completes"() {
        expect:
        DslParser.wordAt(line, line.length()).word() == word
        DslParser.wordAt(line, line.length()).inString() == inString
        shell.complete(line, line.length()).start == line.length() - word.length()

        where:
        line                        || word          | inString
        'walk(l2'                   || 'l2'          | false
        'x = refcounts.le'          || 'refcounts.le' | false
        "open 'dir/a b"             || 'dir/a b'     | true
        "open 'a' ; read"           || 'read'        | false
        "write 0, 'it\\'s"          || "it\\'s"      | true
    }
}
