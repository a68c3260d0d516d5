package dev.qcow2.vmstate;

import dev.qcow2.Qcow2Exception;

/**
 * A VM state that cannot be read or decoded: one line naming the image, the snapshot and, for a
 * problem inside the migration stream, the stream offset where it is.
 */
public class VmStateException extends Qcow2Exception {
    private final long streamOffset;

    /** A problem with the snapshot itself (no VM state, unreadable clusters). */
    public VmStateException(String resource, String snapshot, String message) {
        super(resource, "snapshot '" + snapshot + "': " + message);
        this.streamOffset = -1;
    }

    /** A problem at {@code streamOffset} of the migration stream. */
    public VmStateException(String resource, String snapshot, long streamOffset, String message) {
        super(resource, "snapshot '" + snapshot + "': VM state at stream offset 0x" + Long.toHexString(streamOffset)
                + ": " + message);
        this.streamOffset = streamOffset;
    }

    /** Where in the stream the problem is; -1 when it is not in the stream. */
    public long streamOffset() { return streamOffset; }
}
