package dev.qcow2.snapshot;

import dev.qcow2.Qcow2Exception;

/** No snapshot has the ID or name asked for. */
public final class SnapshotNotFoundException extends Qcow2Exception {
    public SnapshotNotFoundException(String resource, String idOrName) {
        super(resource, "snapshot '" + idOrName + "' not found");
    }
}
