package dev.qcow2.vmstate;

import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.units.GuestOffset;

/**
 * Where {@code savevm} put a snapshot's VM state in its guest space (QEMU 7.2 block/qcow2.h
 * qcow2_vm_state_offset): at the first L1-entry boundary at or past the snapshot's disk size,
 * {@code l1_vm_state_index << (cluster_bits + l2_bits)} with {@code l1_vm_state_index =
 * size_to_l1(disk_size)}; an L1 entry covers 512 MiB with 64 KiB clusters (256 MiB with extended
 * L2, whose entries are twice as wide). The disk size is the snapshot's own (loadvm first resizes
 * the disk back to it, qcow2_snapshot_goto), so an image grown after savevm still finds its state.
 *
 * @param offset guest offset of the stream's first byte
 * @param size   vm_state_size: the 64-bit extra-data field when present, else the 32-bit one
 *               (SnapshotEntry already prefers the 64-bit one)
 */
public record VmStateLocation(GuestOffset offset, long size) {

    public static VmStateLocation of(SnapshotEntry snapshot, ClusterGeometry geometry) {
        int shift = geometry.clusterBits() + geometry.l2Bits();
        long diskSize = snapshot.diskSize();
        long index = (diskSize + (1L << shift) - 1) >>> shift; // size_to_l1
        return new VmStateLocation(new GuestOffset(index << shift), snapshot.vmStateSize());
    }

    public long end() { return offset.value() + size; }
}
