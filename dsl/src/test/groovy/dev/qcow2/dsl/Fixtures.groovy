package dev.qcow2.dsl

import dev.qcow2.testing.Damage
import dev.qcow2.testing.ImageMatrix
import dev.qcow2.testing.Qemu
import dev.qcow2.write.Qcow2Writer
import dev.qcow2.write.WriteOptions

import java.nio.file.Files
import java.nio.file.Path

/** Small images for the DSL specs, made by qemu-img/qemu-io or by our writer. 64 KiB clusters unless said. */
class Fixtures {
    static final int CS = 65536

    /** 1 MiB: plain data in clusters 0-1, compressed clusters 4 and 5, a zeroed cluster 8, text "NEEDLE" at 0x30010. */
    static Path mixed(Path dir) {
        def img = Qemu.create(dir.resolve('mixed.qcow2'), '1M')
        def pat = ImageMatrix.patternFile(dir, 7)
        ImageMatrix.io(img, pat, ["write PAT 0 ${2 * CS}", "write -c PAT ${4 * CS} $CS", "write -c PAT ${5 * CS} $CS",
                                  "write -P 0x41 ${8 * CS} $CS", "write -z ${8 * CS} $CS"])
        Files.write(dir.resolve('needle.bin'), 'NEEDLE'.bytes)
        Qemu.io(img, "write -s ${dir.resolve('needle.bin')} ${3 * CS + 16} 6")
        img
    }

    /**
     * Two snapshots with data changed between them: 'a' after clusters 0-3 were written with
     * 0x11; then cluster 1 rewritten (0x22), cluster 5 added, cluster 2 zeroed, cluster 3
     * discarded; 'b' taken; then cluster 0 rewritten (0x33) in the active state only.
     */
    static Path snapshots(Path dir) {
        def img = Qemu.create(dir.resolve('snaps.qcow2'), '1M')
        Qemu.io(img, "write -P 0x11 0 ${4 * CS}")
        Qemu.img('snapshot', '-c', 'a', img.toString())
        Qemu.io(img, "write -P 0x22 $CS $CS", "write -P 0x55 ${5 * CS} $CS", "write -z ${2 * CS} $CS", "discard ${3 * CS} $CS")
        Qemu.img('snapshot', '-c', 'b', img.toString())
        Qemu.io(img, "write -P 0x33 0 4096")
        img
    }

    /** Our writer's image: created by qemu-img, written only by Qcow2Writer (data, zeroes, a compressed cluster). */
    static Path ours(Path dir) {
        def img = Qemu.create(dir.resolve('ours.qcow2'), '1M')
        Qcow2Writer.open(img, WriteOptions.defaults()).withCloseable { w ->
            w.write(0, ('ours' * 1000).bytes)
            w.writeCompressed(2 * CS, new byte[CS].with { Arrays.fill(it, (byte) 7); it })
            w.write(6 * CS + 100, 'tail'.bytes)
            w.writeZeroes(6 * CS, 100)
        }
        img
    }

    /** {@code mixed} with cluster {@code leaked} past the end of the used area given refcount 1 and the file grown to hold it. */
    static Path leaked(Path dir) {
        def img = mixed(dir)
        def d = new Damage(img)
        long clusters = Files.size(img).intdiv(CS)
        assert clusters < CS / 2: 'leaked cluster must fall in the first refcount block'
        d.put16(d.refblock() + 2 * clusters, 1)
        new RandomAccessFile(img.toFile(), 'rw').withCloseable { it.setLength((clusters + 1) * CS) }
        img
    }

}
