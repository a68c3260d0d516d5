package dev.qcow2.testing

import dev.qcow2.format.HeaderField

import java.nio.file.Files
import java.nio.file.Path

/**
 * A directory of mixed images for the fleet-scan specs (qcow2 scan, the Spark job), made with
 * qemu-img/qemu-io: clean, leaky (one refcount raised on a free cluster), corrupt (the header
 * cluster's refcount zeroed), compressed, with an internal snapshot, backing chains (base +
 * overlay, in a subdirectory), an overlay whose backing file is missing, a non-qcow2 file
 * (skipped by a directory walk) and a dangling symbolic link named like an image (a real open
 * error; tests run as root, so chmod 000 would not make a file unreadable).
 */
final class Fleet {
    private Fleet() { }

    /** The kinds of image {@link #build} makes, {@code copies} of each (chains: one base + one overlay each). */
    static final List<String> KINDS = ['clean', 'leaky', 'corrupt', 'compressed', 'snapshot', 'chain']

    /** Builds the fleet in {@code dir}; returns the qcow2 files made (the overlays' bases included). */
    static List<Path> build(Path dir, int copies = 1) {
        Files.createDirectories(dir)
        Path t = Files.createDirectories(dir.resolve('.templates-tmp'))
        Path clean = Qemu.create(t.resolve('clean.qcow2'), '4M')
        Qemu.io(clean, 'write -P 0x11 0 256k', 'write -P 0x22 1M 64k')
        Path leaky = Damage.copy(clean, 'leaky.qcow2')
        long cluster = 65536
        long refblock = Damage.getLong(leaky, Damage.getField(leaky, HeaderField.REFCOUNT_TABLE_OFFSET))
        long freeCluster = Files.size(leaky).intdiv(cluster)
        new RandomAccessFile(leaky.toFile(), 'rw').withCloseable { it.setLength((freeCluster + 1) * cluster) }   // a free cluster inside the file ...
        Damage.putShort(leaky, refblock + 2 * freeCluster, 1)   // ... with refcount 1: leaked
        Path corrupt = Damage.copy(clean, 'corrupt.qcow2')
        Damage.putShort(corrupt, refblock, 0)   // cluster 0 (the header): refcount 0, one reference
        Path compressed = t.resolve('compressed.qcow2')
        Qemu.img('convert', '-q', '-c', '-O', 'qcow2', clean.toString(), compressed.toString())
        Path snapshot = Damage.copy(clean, 'snapshot.qcow2')
        Qemu.img('snapshot', '-c', 'before', snapshot.toString())
        Qemu.io(snapshot, 'write -P 0x33 0 64k')

        List<Path> made = []
        for (int i = 0; i < copies; i++) {
            for (kind in ['clean', 'leaky', 'corrupt', 'compressed', 'snapshot']) {
                Path f = dir.resolve("${kind}-${i}.qcow2")
                Files.copy(t.resolve("${kind}.qcow2"), f)
                made << f
            }
            Path chains = Files.createDirectories(dir.resolve('chains'))
            Path base = Files.copy(clean, chains.resolve("base-${i}.qcow2"))
            Path overlay = chains.resolve("overlay-${i}.qcow2")
            Qemu.create(overlay, '4M', null, ['-b', base.fileName.toString(), '-F', 'qcow2'])
            Qemu.io(overlay, "write -P 0x${(0x40 + i % 64).toString(16)} 2M 64k".toString())
            made << base << overlay
        }
        Path orphan = dir.resolve('orphan.qcow2')
        Qemu.create(orphan, '4M', null, ['-u', '-b', 'missing.qcow2', '-F', 'qcow2'])
        made << orphan
        Files.writeString(dir.resolve('notes.txt'), 'not an image\n')
        Files.createSymbolicLink(dir.resolve('dangling.qcow2'), dir.resolve('nowhere.qcow2'))
        t.toFile().deleteDir()
        made
    }

    /** SHA-256 of every regular file under {@code dir}, by path. */
    static Map<String, String> digests(Path dir) {
        Map<String, String> out = new TreeMap<>()
        Files.walk(dir).withCloseable { s ->
            s.filter { Files.isRegularFile(it) }.forEach { out[it.toString()] = Sha256.of(it) }
        }
        out
    }
}
