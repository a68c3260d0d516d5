package dev.qcow2.notebook;

/**
 * Thrown inside a cell's user code when the cell was interrupted ({@link CellThread#checkStop}).
 * An Error, like the ThreadDeath of JShell's own stop checks, so that {@code catch (Exception e)}
 * in user code does not swallow it; and should user code catch it anyway, the next loop
 * iteration throws it again, because the thread's stop request stays set.
 */
public final class CellStopped extends Error {
    public CellStopped() {
        super("interrupted", null, false, false);
    }
}
