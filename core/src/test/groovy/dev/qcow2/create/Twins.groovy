package dev.qcow2.create

import dev.qcow2.image.ChainMap
import dev.qcow2.image.MapEntry
import dev.qcow2.image.OpenOptions
import dev.qcow2.image.Qcow2Image
import dev.qcow2.testing.Qemu
import groovy.json.JsonSlurper

import java.nio.file.Files
import java.nio.file.Path

/**
 * The same image made twice, once by qemu-img create and once by ImageCreator, in two sibling
 * directories under the same relative names (so stored backing and data file names agree).
 */
class Twins {
    final Path qemuDir
    final Path ourDir
    final String name = 'img.qcow2'

    Twins(Path root) {
        qemuDir = Files.createDirectories(root.resolve('qemu'))
        ourDir = Files.createDirectories(root.resolve('ours'))
    }

    Path qemuImage() { qemuDir.resolve(name) }

    Path ourImage() { ourDir.resolve(name) }

    /** Runs a setup step (e.g. making a backing file) in both directories. */
    void both(Closure step) { step(qemuDir); step(ourDir) }

    /** qemu-img create -f qcow2 [-o options] [extra] img.qcow2 [size], in the qemu directory. */
    Qemu.Run qemuCreate(String options, String size, List<String> extra = []) {
        def args = [Qemu.QEMU_IMG, 'create', '-q', '-f', 'qcow2']
        if (options) args += ['-o', options]
        args += extra
        args << name
        if (size != null) args << size
        Qemu.run(args, qemuDir.toFile())
    }

    CreateOptions ourCreate(String options, String size, boolean unsafe = false) {
        def opts = new OptionList()
        if (options) opts.add(options)
        if (size != null) opts.set('size', size)
        ImageCreator.create(ourImage(), opts, unsafe)
    }

    /** qemu-img info --output=json without the fields that name the file or count its blocks. */
    Map info(Path image) {
        def r = Qemu.run([Qemu.QEMU_IMG, 'info', '--output=json', image.fileName.toString()], image.parent.toFile())
        assert r.exit == 0: r
        def json = new JsonSlurper().parseText(r.out.replace(image.parent.toString(), 'DIR')) as Map
        json.remove('filename')
        json.remove('actual-size')
        json
    }

    /** qemu-img check's exit status, run in the image's directory (qemu-img finds data files from there). */
    static int check(Path image) {
        Qemu.run([Qemu.QEMU_IMG, 'check', image.fileName.toString()], image.parent.toFile()).exit
    }

    /** Index and offset of the first differing byte, or null when the files are equal. */
    static String firstDifference(Path a, Path b) {
        byte[] x = Files.readAllBytes(a)
        byte[] y = Files.readAllBytes(b)
        if (x.length != y.length) return "length ${x.length} != ${y.length}"
        for (int i = 0; i < x.length; i++) {
            if (x[i] != y[i]) return String.format('byte 0x%x: %02x != %02x', i, x[i] & 0xff, y[i] & 0xff)
        }
        null
    }

    /** True when our read path sees only zeros: ranges the map calls data are read, the rest must say zero. */
    static boolean readsAllZeros(Path image) {
        Qcow2Image.open(image, OpenOptions.permissive()).withCloseable { img ->
            boolean ok = true
            byte[] buf = new byte[1 << 20]
            byte[] zeros = new byte[buf.length]
            new ChainMap(false).walk(img, 0, img.size()) { MapEntry e ->
                if (!e.data()) { ok &= e.zero(); return }
                for (long off = e.start(); off < e.end(); off += buf.length) {
                    int n = (int) Math.min(buf.length, e.end() - off)
                    img.read(off, buf, 0, n)
                    ok &= Arrays.equals(buf, 0, n, zeros, 0, n)
                }
            }
            ok
        }
    }
}
