package dev.qcow2.dsl

import dev.qcow2.OneLineMessage
import groovy.transform.CompileStatic

/**
 * Misuse of the DSL, or an image error passed through: the message is the one line to show the
 * user ("no image open — use open 'file.qcow2'"). Carries no stack trace: it is never a bug report.
 */
@CompileStatic
class DslException extends RuntimeException implements OneLineMessage {
    DslException(String message) { super(message, null, false, false) }

    DslException(String message, Throwable cause) { super(message, cause, false, false) }

    @Override String toString() { message }
}
