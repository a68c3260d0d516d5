package dev.qcow2.write

import dev.qcow2.Qcow2Exception
import dev.qcow2.format.Qcow2Header
import dev.qcow2.storage.FileStorage
import dev.qcow2.storage.MemoryWritableStorage
import dev.qcow2.testing.Qemu
import static dev.qcow2.testing.Bitmaps.*
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption

/**
 * Writing images with persistent dirty bitmaps, twinned with qemu-io: the same requests on two
 * copies of one image (enabled, disabled and in-use bitmaps at several granularities) leave the
 * same qemu-img info bitmap fields, the same qemu-img check verdict and counts (allocated, leaked,
 * corrupt; not where clusters land), and the same bits.
 * A crash at every write of the writer leaves an image qemu-img checks without corruption.
 */
class BitmapWriteSpec extends Specification {
    @TempDir Path dir

    static final List<String> OPS = ['write 1000 10', 'write -z 1M 131072', 'discard 2M 100', 'write 3145728 65536',
                                     'write -z -u 4M 131072', 'discard 5242880 1048576', 'write 8388000 100']

    /** The image: b0 enabled at {@code g}, b1 disabled at 64 KiB, b2 enabled at 1 MiB and (optionally) IN_USE. */
    private Path image(String name, String options, long g, boolean inUse) { image(dir, name, options, g, inUse) }

    private static Path image(Path dir, String name, String options, long g, boolean inUse) {
        def img = Qemu.create(dir.resolve(name), '8M', options)
        Qemu.io(img, 'write -P 1 0 512k')
        Qemu.img('bitmap', '--add', '-g', "$g", img.toString(), 'b0')
        Qemu.img('bitmap', '--add', '--disable', '-g', '65536', img.toString(), 'b1')
        Qemu.img('bitmap', '--add', '-g', '1M', img.toString(), 'b2')
        Qemu.io(img, 'write 7M 4k')            // so b0/b2 start with bits set
        if (inUse) setInUse(img, 'b2')
        img
    }

    static void ours(Qcow2Writer w, String op) {
        def p = op.split(' ')
        switch (p[0]) {
            case 'write':
                if (p[1] == '-z') {
                    boolean unmap = p[2] == '-u'
                    long off = size(p[unmap ? 3 : 2]), len = size(p[unmap ? 4 : 3])
                    w.writeZeroes(off, len, unmap)
                } else {
                    long off = size(p[1]); int len = (int) size(p[2])
                    w.write(off, new byte[len].tap { Arrays.fill(it, (byte) 0xcd) })
                }
                break
            case 'discard': w.discard(size(p[1]), size(p[2])); break
            default: throw new IllegalArgumentException(op)
        }
    }

    static long size(String s) { s.endsWith('M') ? Long.parseLong(s[0..-2]) << 20 : Long.parseLong(s) }

    def "#options, b0 at #g, in-use b2 #inUse: our writer leaves the bitmaps qemu-io leaves"() {
        given:
        def theirs = image('theirs.qcow2', options, g, inUse)
        def mine = dir.resolve('mine.qcow2')
        Files.copy(theirs, mine, StandardCopyOption.REPLACE_EXISTING)

        when:
        Qemu.io(theirs, OPS)
        Qcow2Writer.open(mine, WriteOptions.defaults()).withCloseable { w -> OPS.each { ours(w, it) } }

        then:
        info(mine) == info(theirs)
        bits(mine) == bits(theirs)
        check(mine) == check(theirs)
        Qemu.rawBytes(mine) == Qemu.rawBytes(theirs)

        where:
        options              | g       | inUse
        'cluster_size=65536' | 512     | false
        'cluster_size=65536' | 65536   | true
        'cluster_size=4096'  | 4096    | false
        'cluster_size=512'   | 1048576 | true
        'cluster_size=2048'  | 512     | false
    }

    def "while open for writing every consistent bitmap is IN_USE; closing clears it"() {
        given:
        def img = image('open.qcow2', 'cluster_size=65536', 65536, false)

        when:
        def w = Qcow2Writer.open(img, WriteOptions.defaults())
        def during = Qemu.img('info', '-U', '--output=json', img.toString()).json()['format-specific'].data.bitmaps
        w.write(0, new byte[10])
        w.close()

        then:
        during*.flags == [['in-use', 'auto'], ['in-use'], ['in-use', 'auto']]
        info(img)*.flags == [['auto'], [], ['auto']]
        check(img).exit == 0
    }

    def "bitmap operations on an open writer: add, disable, merge, clear, remove, as qemu-img bitmap does"() {
        given:
        def theirs = Qemu.create(dir.resolve('t.qcow2'), '4M', 'cluster_size=65536')
        def mine = dir.resolve('m.qcow2')
        Files.copy(theirs, mine)

        when:
        [['--add', '-g', '4096', 'a'], ['--add', 'b'], ['--add', 'c']].each { Qemu.img(['bitmap'] + it[0..-2] + [theirs.toString(), it[-1]]) }
        Qemu.io(theirs, 'write 100 5000')
        Qemu.img('bitmap', '--disable', theirs.toString(), 'b')
        Qemu.io(theirs, 'write 2M 10')
        Qemu.img('bitmap', '--merge', 'a', theirs.toString(), 'c')
        Qemu.img('bitmap', '--clear', theirs.toString(), 'a')
        Qemu.img('bitmap', '--remove', theirs.toString(), 'a')
        Qcow2Writer.open(mine, WriteOptions.defaults()).withCloseable { w ->
            w.bitmaps().add('a', 4096, true); w.bitmaps().add('b', 0, true); w.bitmaps().add('c', 0, true)
            w.write(100, new byte[5000])
            w.bitmaps().disable('b')
            w.write(2 << 20, new byte[10])
            w.bitmaps().merge('c', 'a')
            w.bitmaps().clear('a')
            w.bitmaps().remove('a')
        }

        then:
        info(mine) == info(theirs)
        bits(mine) == bits(theirs)
        check(mine) == check(theirs)
    }

    def "refusals use QEMU's words: #what"() {
        given:
        def img = image('r.qcow2', 'cluster_size=65536', 65536, true)

        when:
        Qcow2Writer.open(img, WriteOptions.defaults()).withCloseable { w -> op(w.bitmaps()) }

        then:
        def e = thrown(Qcow2Exception)
        e.message.endsWith(message)

        where:
        what              | op                                     | message
        'exists'          | { it.add('b0', 0, true) }              | 'Bitmap already exists: b0'
        'granularity'     | { it.add('x', 1000, true) }            | 'Granularity must be power of 2 and at least 512'
        'missing'         | { it.clear('nope') }                   | "Dirty bitmap 'nope' not found"
        'in use'          | { it.clear('b2') }                     | "Bitmap 'b2' is inconsistent and cannot be used"
        'in use (merge)'  | { it.merge('b0', 'b2') }               | "Bitmap 'b2' is inconsistent and cannot be used"
    }

    def "an in-use bitmap can be removed, as qemu-img bitmap --remove does"() {
        given:
        def theirs = image('t.qcow2', 'cluster_size=65536', 65536, true)
        def mine = dir.resolve('m.qcow2')
        Files.copy(theirs, mine)

        when:
        Qemu.img('bitmap', '--remove', theirs.toString(), 'b2')
        Qcow2Writer.open(mine, WriteOptions.defaults()).withCloseable { w -> w.bitmaps().remove('b2') }

        then:
        info(mine) == info(theirs)
        check(mine) == check(theirs)
    }

    def "the last bitmap removed drops the extension and the autoclear bit"() {
        given:
        def img = Qemu.create(dir.resolve('x.qcow2'), '4M', 'cluster_size=65536')
        Qemu.img('bitmap', '--add', img.toString(), 'only')

        when:
        Qcow2Writer.open(img, WriteOptions.defaults()).withCloseable { w -> w.bitmaps().remove('only') }
        def h = FileStorage.openReadOnly(img).withCloseable { Qcow2Header.read(it) }

        then:
        info(img) == null
        !h.bitmapsConsistent()
        h.extension(dev.qcow2.format.HeaderExtension.Bitmaps).empty
        check(img).exit == 0
    }

    @Shared @TempDir Path sharedDir
    @Shared Map crashStartState

    /** The crash rows' image (cluster_size=4096, b0 at 4 KiB), its bits, and the bits qemu-io leaves after OPS. */
    Map crashStart() {
        if (crashStartState == null) {
            def img = image(sharedDir, 'c.qcow2', 'cluster_size=4096', 4096, false)
            byte[] initial = Files.readAllBytes(img)
            def expected = sharedDir.resolve('expected.qcow2')
            Files.write(expected, initial)
            Qemu.io(expected, OPS)
            crashStartState = [initial: initial, before: bits(img), done: bits(expected)]
        }
        crashStartState
    }

    def "a crash (#mode) at write #at of a session on an image with bitmaps leaves no corruption and no consistent bitmap with wrong bits"() {
        given: 'the image and what qemu-io makes of it, made once for all rows'
        def img = dir.resolve('c.qcow2')
        Files.write(img, crashStart().initial)
        byte[] initial = Files.readAllBytes(img)
        def storage = new CrashingStorage(initial, at, mode)

        when:
        try {
            Qcow2Writer.open(storage, img, WriteOptions.defaults()).withCloseable { w -> OPS.each { ours(w, it) } }
        } catch (IOException ignored) { }
        def crashed = dir.resolve('crashed.qcow2')
        Files.write(crashed, storage.afterCrash())
        def c = check(crashed)
        def before = crashStart().before
        def after = bits(crashed)
        def done = crashStart().done

        then: 'leaks at worst; every bitmap is either IN_USE, as it was, or as qemu-io leaves it'
        at > 30 || storage.crashed
        c.exit in [0, 3]
        (c.corruptions ?: 0) == 0
        after.every { name, b -> b == 'in-use' || b == before[name] || b == done[name] }
        Qcow2Writer.open(new MemoryWritableStorage('again', storage.afterCrash()), crashed, WriteOptions.defaults()).close()

        where:
        [at, mode] << [(1..60).toList(), CrashingStorage.Mode.values().toList()].combinations()
    }

    def "resize (#size) keeps the bits as qemu-img resize does; an in-use bitmap refuses it with QEMU's words"() {
        given:
        def theirs = image('t.qcow2', 'cluster_size=65536', 4096, inUse)
        def mine = dir.resolve('m.qcow2')
        Files.copy(theirs, mine)

        when:
        def ref = Qemu.img(['resize', '--shrink', theirs.toString(), size], false)
        String error = null
        try {
            Qcow2Writer.open(mine, WriteOptions.defaults()).withCloseable { w -> dev.qcow2.resize.Resizer.resize(w, Long.parseLong(size[0..-2]) << 20) }
        } catch (Qcow2Exception e) { error = e.message }

        then:
        (ref.exit == 0) == (error == null)
        error == null || ref.err.contains(error.replace("$mine: ", ''))
        info(mine) == info(theirs)
        bits(mine) == bits(theirs)
        check(mine) == check(theirs)

        where:
        size  | inUse
        '16M' | false
        '4M'  | false
        '9M'  | false
        '16M' | true
    }
}
