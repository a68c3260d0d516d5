package dev.qcow2.dsl

import dev.qcow2.ErrorLine
import groovy.transform.CompileStatic

/**
 * Turns what a command throws into a {@link DslException} carrying the one line the user sees
 * ({@link ErrorLine}, with the DSL's own way out of a dirty image or a pending undo journal).
 * Nothing reaches the user as a stack trace.
 */
@CompileStatic
final class Guard {
    /** How the DSL gets out of a dirty image or a pending undo journal, and how it allows a refused backing file. */
    static final ErrorLine.Hints HINTS = new ErrorLine.Hints('; repair its refcounts first: repair all',
            ' (undo() restores what that repair changed)', "; allow it with open(…, follow: '%s')")

    private Guard() { }

    static <T> T run(Closure<T> body) {
        try {
            return body.call()
        } catch (DslException e) {
            throw e
        } catch (IOException | UncheckedIOException e) {
            throw new DslException(line(e), e)
        }
    }

    /** The one line for anything a DSL evaluation threw. */
    static String line(Throwable t) { ErrorLine.of(t, HINTS) }
}
