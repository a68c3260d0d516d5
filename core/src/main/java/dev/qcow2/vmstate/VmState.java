package dev.qcow2.vmstate;

import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.image.Qcow2Image;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The VM state of one internal snapshot of an open image: its stored bytes, what they decode to,
 * and memory images made from them. Nothing is decoded until asked; every decode streams the
 * pages (memory bounded by the page index of {@link GuestMemory}, one bit per page for exports).
 */
public final class VmState {
    private final SnapshotEntry snapshot;
    private final VmStateBytes bytes;
    private VmStateSummary summary;

    private VmState(SnapshotEntry snapshot, VmStateBytes bytes) {
        this.snapshot = snapshot;
        this.bytes = bytes;
    }

    /** The VM state of {@code snapshot}; a disk-only snapshot (vm_state_size 0) is refused. */
    public static VmState of(Qcow2Image image, SnapshotEntry snapshot) throws IOException {
        if (snapshot.vmStateSize() == 0) {
            throw new VmStateException(image.describe(), snapshot.name(),
                    "no VM state: a disk-only snapshot (qemu-img snapshot -c, or savevm of a VM without RAM) stores only the disk");
        }
        VmStateLocation location = VmStateLocation.of(snapshot, image.geometry());
        if (snapshot.vmStateSize() < 0 || location.offset().value() > Long.MAX_VALUE - snapshot.vmStateSize()) {
            throw new VmStateException(image.describe(), snapshot.name(), "vm_state_size " + Long.toUnsignedString(snapshot.vmStateSize())
                    + " does not fit in a guest address space");
        }
        return new VmState(snapshot, new VmStateBytes(image.describe(), snapshot.name(), image.vmStateReader(snapshot), location));
    }

    public SnapshotEntry snapshot() { return snapshot; }

    public VmStateLocation location() { return bytes.location(); }

    public VmStateBytes bytes() { return bytes; }

    /** What the stream holds (read once, then kept). */
    public VmStateSummary summary() throws IOException {
        if (summary == null) summary = MigrationStream.read(bytes, MigrationStream.COUNT_ONLY);
        return summary;
    }

    /** Where the block {@code options} name sits in guest-physical space (from the summary; no second read). */
    public MemoryLayout layout(MemoryOptions options) throws IOException {
        java.util.Map<String, Long> blocks = new java.util.LinkedHashMap<>();
        for (VmStateSummary.RamBlock b : summary().ramBlocks()) blocks.put(b.name(), b.usedLength());
        return MemoryLayout.resolve(blocks, summary().machineType(), options, bytes, 0);
    }

    /** Guest memory of the block {@code options} name, indexed for random reads. */
    public GuestMemory memory(MemoryOptions options) throws IOException {
        return GuestMemory.index(bytes, options);
    }

    /**
     * Writes {@code target} in {@code format}: the stream as stored, or a memory image of one RAM
     * block. Returns the layout written (null for the stream).
     */
    public MemoryLayout export(Path target, VmStateFormat format, MemoryOptions options) throws IOException {
        boolean done = false;
        try {
            MemoryLayout layout = null;
            if (format == VmStateFormat.STREAM) {
                try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(target), VmStateBytes.CHUNK)) {
                    bytes.copyTo(out);
                }
            } else {
                layout = MemoryExport.write(bytes, target, format, options);
            }
            done = true;
            return layout;
        } finally {
            // a stream that cannot be decoded leaves no half-written memory image behind
            if (!done) Files.deleteIfExists(target);
        }
    }
}
