package dev.qcow2.dsl

/**
 * Told how far a long command has got: {@code check}, {@code export}, {@code find} and
 * {@code snapshot.diff} call it with their phase name and {@code done} out of {@code total}
 * (bytes or clusters; {@code done} never decreases and the last call of a command that
 * completes has {@code done == total}). Set one with {@code session.progress = { phase, done, total -> … }};
 * the REPL draws it as a bar on a real terminal. Called on the thread running the command.
 */
@FunctionalInterface
interface ProgressListener {
    void progress(String phase, long done, long total)
}
