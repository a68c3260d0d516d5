package dev.qcow2.repair;

import dev.qcow2.Qcow2Exception;

/**
 * A repair was asked for while the undo journal of an earlier one still exists: a second journal
 * would make the first repair impossible to undo. The message names no front-end command; the
 * CLI and the DSL add how to undo with theirs.
 */
public final class PendingUndoException extends Qcow2Exception {
    public PendingUndoException(String journal) {
        super(journal, "an undo journal already exists: undo that repair first or remove the journal");
    }
}
