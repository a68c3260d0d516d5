package dev.qcow2.snapshot

import dev.qcow2.testing.Qemu
import dev.qcow2.write.Mirror
import dev.qcow2.write.Qcow2Writer
import dev.qcow2.write.WriteOptions

import java.nio.file.Files
import java.nio.file.Path

/**
 * An image under test with the expected guest bytes of its active state and of every
 * snapshot (by ID), checked against qemu-img: {@code check} exit 0, {@code convert -l ID} per
 * snapshot, the active state, and {@code snapshot -l}'s IDs and names.
 */
class SnapshotModel {
    final Path image
    final Path dir
    final int clusterSize
    byte[] active
    final Map<String, byte[]> snapshots = [:]
    final Map<String, String> names = [:]

    SnapshotModel(Path image, Path dir, int clusterSize, byte[] initial) {
        this.image = image
        this.dir = dir
        this.clusterSize = clusterSize
        this.active = initial.clone()
    }

    void write(long offset, int length, long seed, boolean compressed = false) {
        byte[] data = Mirror.pattern(seed, length)
        Qcow2Writer.open(image, WriteOptions.defaults()).withCloseable { w ->
            if (compressed) w.writeCompressed(offset, data) else w.write(offset, data)
        }
        System.arraycopy(data, 0, active, (int) offset, length)
    }

    void zero(long offset, int length, boolean discard) {
        Qcow2Writer.open(image, WriteOptions.defaults()).withCloseable { w ->
            if (discard) w.discard(offset, length) else w.writeZeroes(offset, length)
        }
        Arrays.fill(active, (int) offset, (int) (offset + length), (byte) 0)
    }

    String create(String name) {
        String id = Snapshots.open(image).withCloseable { it.create(name, java.time.Instant.now()) }
        snapshots[id] = active.clone()
        names[id] = name
        id
    }

    void apply(String id) {
        Snapshots.open(image).withCloseable { it.apply(id) }
        active = snapshots[id].clone()
    }

    void delete(String id) {
        Snapshots.open(image).withCloseable { it.delete(id) }
        snapshots.remove(id)
        names.remove(id)
    }

    /** The snapshot IDs and names qemu-img lists, in table order. */
    List<List<String>> qemuList() {
        def out = Qemu.img('snapshot', '-l', image.toString()).out
        out.readLines().drop(2).collect { line -> [line.substring(0, 10).trim(), line.substring(10, 27).trim()] }
    }

    void verify() {
        def check = Qemu.img(['check', image.toString()], false)
        assert check.exit == 0: "qemu-img check: $check"
        assert Qemu.rawBytes(image) == active
        snapshots.each { id, bytes -> assert Qemu.rawBytes(image, id) == bytes: "snapshot $id" }
        assert qemuList() == snapshots.keySet().collect { [it, names[it]] }
    }

    /** Takes a snapshot with qemu-img and records it. */
    String qemuCreate(String name) {
        def before = qemuList()*.get(0) as Set
        Qemu.img('snapshot', '-c', name, image.toString())
        String id = (qemuList()*.get(0)).find { !before.contains(it) }
        snapshots[id] = active.clone()
        names[id] = name
        id
    }

    void qemuApply(String id) {
        Qemu.img('snapshot', '-a', id, image.toString())
        active = snapshots[id].clone()
    }

    /** qemu-img 7.2 deletes by name only (bdrv_snapshot_find), the first snapshot with it. */
    void qemuDelete(String id) {
        Qemu.img('snapshot', '-d', names[id], image.toString())
        snapshots.remove(id)
        names.remove(id)
    }

    static int clusterSize(String options) {
        def m = options =~ /cluster_size=(\d+)([kKM]?)/
        if (!m.find()) return 65536
        int n = m.group(1) as int
        m.group(2) == 'M' ? n << 20 : m.group(2).toLowerCase() == 'k' ? n << 10 : n
    }
}
