package dev.qcow2.dsl

import dev.qcow2.DirtyImageException
import dev.qcow2.Qcow2Exception
import dev.qcow2.repair.PendingUndoException
import groovy.transform.CompileStatic

import java.nio.file.AccessDeniedException
import java.nio.file.FileSystemException
import java.nio.file.NoSuchFileException

/**
 * Turns what a command throws into the one line the user sees: DSL misuse as is, image errors
 * (Qcow2Exception: the message already names the file) passed through, other I/O errors with
 * the file named. Nothing reaches the user as a stack trace.
 */
@CompileStatic
final class Guard {
    private Guard() { }

    static <T> T run(Closure<T> body) {
        try {
            return body.call()
        } catch (DslException e) {
            throw e
        } catch (DirtyImageException e) {
            throw new DslException("${e.message}; repair its refcounts first: repair all", e)
        } catch (PendingUndoException e) {
            throw new DslException("${e.message} (undo)", e)
        } catch (Qcow2Exception e) {
            throw new DslException(e.message, e)
        } catch (IOException e) {
            throw new DslException(describe(e), e)
        } catch (UncheckedIOException e) {
            throw new DslException(describe(e.cause), e)
        }
    }

    static String describe(IOException e) {
        if (e instanceof NoSuchFileException) return "${e.message}: no such file"
        if (e instanceof AccessDeniedException) return "${e.message}: permission denied"
        if (e instanceof FileSystemException) {
            def f = (FileSystemException) e
            return "${f.file}: ${f.reason ?: e.class.simpleName}"
        }
        e.message ?: e.class.simpleName
    }
}
