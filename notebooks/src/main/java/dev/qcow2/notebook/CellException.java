package dev.qcow2.notebook;

/** A cell failed; the message is the one line the notebook shows (no stack trace). */
public final class CellException extends RuntimeException implements dev.qcow2.OneLineMessage {
    public CellException(String message) {
        super(message, null, false, false);
    }
}
