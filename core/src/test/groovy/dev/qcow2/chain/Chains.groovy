package dev.qcow2.chain

import dev.qcow2.testing.Qemu

import java.nio.file.Files
import java.nio.file.Path

/**
 * Backing chains built with qemu-img and qemu-io, bottom first. A layer is
 * {@code [name, createOptions, size, qemu-io commands]}; a name ending in ".raw" is a raw file.
 * Each layer above the first names the one below by its plain file name with its format
 * recorded, so a twin copied to another directory keeps a working chain.
 */
class Chains {
    static List<Path> build(Path dir, List<List> layers) {
        Files.createDirectories(dir)
        List<Path> paths = []
        layers.eachWithIndex { layer, i ->
            def (String name, String opts, String size, List<String> io) = layer
            Path p = dir.resolve(name)
            Files.createDirectories(p.parent)
            if (name.endsWith('.raw') || name.endsWith('.img')) {
                Qemu.img('create', '-q', '-f', 'raw', p.toString(), size)
                if (io) Qemu.io(p, io, 'raw')
            } else {
                def extra = []
                if (i > 0) {
                    def below = paths[i - 1].fileName.toString()
                    extra = ['-b', below, '-F', below.endsWith('.raw') ? 'raw' : 'qcow2']
                }
                Qemu.create(p, size, opts ?: null, extra)
                // "snapshot NAME" takes an internal snapshot with qemu-img between the qemu-io commands
                io.split { it.startsWith('snapshot ') }.with { snaps, cmds ->
                    if (cmds) Qemu.io(p, cmds)
                    snaps.each { Qemu.img('snapshot', '-c', it.substring(9), p.toString()) }
                }
            }
            paths << p
        }
        paths
    }

    /** Copies every file of {@code from} into {@code to} (same names: relative backing names keep working). */
    static void twin(Path from, Path to) {
        Files.walk(from).withCloseable { s ->
            s.each { Path f ->
                Path t = to.resolve(from.relativize(f).toString())
                if (Files.isDirectory(f)) Files.createDirectories(t) else Files.copy(f, t)
            }
        }
    }

    /** What qemu-img info says about an image's size and backing file. */
    static Map info(Path image) {
        def j = Qemu.img('info', '--output=json', '-U', image.toString()).json()
        [size: j['virtual-size'], backing: j['backing-filename'], backingFormat: j['backing-filename-format'],
         format: j['format']]
    }

    /** qemu-img check exit status (0 = clean), for qcow2 images only. */
    static int check(Path image) {
        image.toString() =~ /\.(raw|img)$/ ? 0 : Qemu.img(['check', image.toString()], false).exit
    }
}
