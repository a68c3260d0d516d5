package dev.qcow2

import dev.qcow2.repair.PendingUndoException
import spock.lang.Specification

import java.nio.channels.ClosedByInterruptException
import java.nio.file.AccessDeniedException
import java.nio.file.FileSystemException
import java.nio.file.NoSuchFileException
import java.util.concurrent.ExecutionException

/** The one exception-to-line function every front end uses: one line, naming the file and what is wrong. */
class ErrorLineSpec extends Specification {
    static class UsageError extends RuntimeException implements OneLineMessage {
        UsageError(String m) { super(m) }
    }

    def "#what becomes '#line'"() {
        expect:
        ErrorLine.of(e) == line
        !ErrorLine.of(e).contains('\n')
        ErrorLine.isExpected(e) == expected

        where:
        what                              | e                                                                          || line                                                       | expected
        'a missing file'                  | new NoSuchFileException('a.qcow2')                                         || "Could not open 'a.qcow2': No such file or directory"      | true
        'an unreadable file'              | new AccessDeniedException('a.qcow2')                                       || "Could not open 'a.qcow2': Permission denied"              | true
        'another file-system error'       | new FileSystemException('a.qcow2', null, 'Is a directory')                 || 'a.qcow2: Is a directory'                                  | true
        'an image error on two lines'     | new Qcow2Exception('a.qcow2', "bad entry\n  at index 0")                 || 'a.qcow2: bad entry at index 0'                            | true
        'a wrapped image error'           | new UncheckedIOException(new Qcow2Exception('a.qcow2', 'truncated'))       || 'a.qcow2: truncated'                                       | true
        'a task that failed'              | new ExecutionException(new NoSuchFileException('b'))                       || "Could not open 'b': No such file or directory"            | true
        'a usage error'                   | new UsageError('walk: use walk l1 or walk l2')                             || 'walk: use walk l1 or walk l2'                             | true
        'a plain bad argument'            | new IllegalArgumentException('offset must be aligned')                     || 'offset must be aligned'                                   | true
        'a number that is not one'        | new NumberFormatException('For input string: "x"')                         || 'NumberFormatException: For input string: "x"'            | true
        'a bug with a long message'       | new IllegalStateException("boom\nmore detail")                             || 'IllegalStateException: boom'                              | false
        'a bug without a message'         | new NullPointerException()                                                 || 'NullPointerException'                                     | false
        'an interrupted read'             | new ClosedByInterruptException()                                           || 'cancelled'                                                | true
        'running out of memory'           | new OutOfMemoryError('Java heap space')                                    || 'out of memory'                                            | true
        'endless recursion'               | new StackOverflowError()                                                   || 'stack overflow (endless recursion?)'                      | false
    }

    def "a front end adds its own way out of a dirty image or a pending undo journal"() {
        given:
        def hints = new ErrorLine.Hints('; run `qcow2 check -r all` first', ' (qcow2 undo IMAGE)')

        expect:
        ErrorLine.of(new DirtyImageException('a.qcow2'), hints) == 'a.qcow2: image is dirty (lazy refcounts); run `qcow2 check -r all` first'
        ErrorLine.of(new UncheckedIOException(new PendingUndoException('a.qcow2-undo')), hints).endsWith('remove the journal (qcow2 undo IMAGE)')
        ErrorLine.of(new DirtyImageException('a.qcow2')) == 'a.qcow2: image is dirty (lazy refcounts)'
        ErrorLine.of(new NoSuchFileException('x'), hints) == "Could not open 'x': No such file or directory"
    }

    def "an exception known only by class name (as JShell reports it) reads the same"() {
        expect:
        ErrorLine.of(className, message) == line

        where:
        className                         | message                 || line
        'dev.qcow2.Qcow2Exception'        | 'a.qcow2: truncated'    || 'a.qcow2: truncated'
        'java.io.UncheckedIOException'    | 'a.qcow2: truncated'    || 'a.qcow2: truncated'
        'java.lang.NullPointerException'  | 'x is null\nat y'       || 'NullPointerException: x is null'
        'REPL.$JShell$12$Mine'            | null                    || '$JShell$12$Mine'
        null                              | 'what'                  || 'error: what'
    }
}
