package dev.qcow2.model

import dev.qcow2.image.BlockDevice
import dev.qcow2.image.OpenOptions
import dev.qcow2.image.FollowPolicy
import dev.qcow2.image.Qcow2Image
import dev.qcow2.testing.Qemu
import groovy.transform.CompileDynamic
import groovy.transform.CompileStatic

import java.nio.file.Files
import java.nio.file.Path

/**
 * The expected guest bytes of an image under test: the active state (its length is the disk
 * size) and each snapshot's bytes by ID, updated with QEMU's semantics for every operation.
 * {@link #verify} holds qemu-img to it: check exit 0 (no leaks, no corruptions), compare of
 * the active state (same size), convert -l of every snapshot by ID and name; and our own
 * reader (Qcow2Image) must read the same bytes as qemu-img and list the same snapshots.
 */
@CompileStatic
class GuestModel {
    final ImageKind kind
    final byte[] backing
    byte[] active
    final Map<String, byte[]> snapshots = new LinkedHashMap<>()
    final Map<String, String> names = [:]

    GuestModel(ImageKind kind, long size, byte[] backing) {
        this.kind = kind
        this.backing = backing
        this.active = new byte[(int) size]
        if (backing != null) System.arraycopy(backing, 0, active, 0, Math.min(backing.length, active.length))
    }

    long size() { active.length }

    void write(long off, byte[] data) { System.arraycopy(data, 0, active, (int) off, data.length) }

    void zero(long off, long len) { Arrays.fill(active, (int) off, (int) (off + len), (byte) 0) }

    /**
     * Discard touches whole clusters only (the partial last cluster of the disk counts when the
     * range reaches the end); they read as zeros, or as the backing file on v2 (no zero flag).
     */
    void discard(long off, long len) {
        int cs = kind.clusterSize
        long end = off + len
        for (long c = Math.floorDiv(off + cs - 1, (long) cs) * cs; c < end; c += cs) {
            long ce = Math.min(c + cs, size())
            if (ce > end) break
            for (long i = c; i < ce; i++) {
                active[(int) i] = (kind.version < 3 && backing != null && i < backing.length) ? backing[(int) i] : (byte) 0
            }
        }
    }

    void created(String id, String name) {
        snapshots[id] = Arrays.copyOf(active, active.length)
        names[id] = name
    }

    void applied(String id) { active = Arrays.copyOf(snapshots[id], snapshots[id].length) }

    void deleted(String id) {
        snapshots.remove(id)
        names.remove(id)
    }

    /**
     * A resize to {@code newSize}. Growing shows zeros, except that the rest of the old last
     * cluster keeps what the image held there ({@code keptTail}, read back after the resize)
     * when no backing file reaches past the old end (QEMU zeroes the new area only then).
     */
    void resized(long newSize, byte[] keptTail) {
        byte[] next = new byte[(int) newSize]
        System.arraycopy(active, 0, next, 0, (int) Math.min(newSize, size()))
        if (keptTail != null) System.arraycopy(keptTail, 0, next, (int) size(), keptTail.length)
        active = next
    }

    /** How many bytes after the old end keep old content when growing from {@code old} to {@code newSize}. */
    int keptTailLength(long old, long newSize) {
        if (backing != null && backing.length > old) return 0
        long clusterEnd = Math.floorDiv(old + kind.clusterSize - 1, (long) kind.clusterSize) * kind.clusterSize
        (int) (Math.min(clusterEnd, newSize) - old)
    }

    /**
     * qemu-img check exit 0, compare equal to the active state at the same size (compare warns
     * on a size mismatch), every snapshot by convert -l with its ID and name; our reader reads
     * the same bytes and lists exactly the model's snapshots.
     */
    @CompileDynamic
    void verify(Path image, Path dir) {
        def check = Qemu.img(['check', image.toString()], false)
        assert check.exit == 0: "qemu-img check: $check"
        def raw = dir.resolve('mirror.raw')
        Files.write(raw, active)
        def cmp = Qemu.img(['compare', '-f', 'qcow2', '-F', 'raw', image.toString(), raw.toString()], false)
        assert cmp.exit == 0 && !cmp.out.contains('size mismatch'): "qemu-img compare of the active state (${size()} bytes): $cmp"
        Files.delete(raw)
        Qcow2Image.open(image, OpenOptions.permissive().withFollow(FollowPolicy.any())).withCloseable { ours ->
            assert Arrays.equals(readAll(ours), active): 'our reader disagrees with the model on the active state'
            assert ours.snapshots().collect { [it.id(), it.name(), it.vmStateSize()] } == snapshots.keySet().collect { [it, names[it], 0L] }
            snapshots.keySet().each { id ->
                // Both must match for qemu-img to load it (find_snapshot_by_id_and_name).
                byte[] converted = Qemu.rawBytes(image, "snapshot.id=$id,snapshot.name=${names[id]}")
                verifySnapshot(id, converted)
                assert Arrays.equals(readAll(ours.snapshot(id)), converted): "our reader of snapshot $id disagrees with convert -l"
            }
        }
    }

    private static byte[] readAll(BlockDevice device) {
        byte[] bytes = new byte[(int) device.size()]
        device.read(0, bytes, 0, bytes.length)
        bytes
    }

    /**
     * qemu-img convert -l switches to the snapshot's L1 table but keeps the current disk size
     * (qcow2_snapshot_load_tmp): up to the snapshot's size it shows the snapshot; past it, the
     * snapshot's tree maps nothing beyond its last cluster (the backing file or zeros show
     * through), and the rest of that last cluster holds whatever it held, so it is not compared.
     */
    void verifySnapshot(String id, byte[] converted) {
        byte[] snap = snapshots[id]
        assert converted.length == size(): "snapshot $id: convert -l gave ${converted.length} bytes, disk size is ${size()}"
        int cs = kind.clusterSize
        int unknownEnd = (int) Math.min(size(), Math.floorDiv(snap.length + cs - 1, cs) * (long) cs)
        for (int i = 0; i < converted.length; i++) {
            if (i >= snap.length && i < unknownEnd) continue
            byte want = i < snap.length ? snap[i] : (backing != null && i < backing.length ? backing[i] : (byte) 0)
            if (converted[i] != want) assert false: "snapshot $id (size ${snap.length}) differs at $i: ${converted[i]} != $want"
        }
    }
}
