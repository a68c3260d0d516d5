package dev.qcow2.snapshot;

import dev.qcow2.format.SnapshotEntry;

/**
 * One snapshot table entry as it will be written (qcow2.rst "Snapshots"; QEMU's QCowSnapshot).
 * {@code extraDataSize} is what the entry had; at least 24 bytes are always written, and
 * {@code unknownExtraData} (the bytes past those 24) is kept verbatim.
 */
record SnapshotRecord(String id, String name, long l1TableOffset, long l1Size, long dateSec, long dateNsec,
                      long vmClockNsec, long vmStateSize, long extraDataSize, long diskSize, long icount,
                      byte[] unknownExtraData) {

    static SnapshotRecord of(SnapshotEntry e) {
        return new SnapshotRecord(e.id(), e.name(), e.l1TableOffset(), e.l1Size(), e.dateSec(), e.dateNsec(),
                e.vmClockNsec(), e.vmStateSize(), e.extraDataSize(), e.diskSize(), e.icount(), e.unknownExtraData());
    }
}
