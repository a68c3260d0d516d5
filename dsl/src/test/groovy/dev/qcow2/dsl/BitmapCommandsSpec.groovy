package dev.qcow2.dsl

import dev.qcow2.testing.Bitmaps
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * {@code bitmaps}, {@code bitmap('b0').dirty} and the bitmap changes of a writable session, against
 * the same changes made with qemu-img bitmap and qemu-io on a copy.
 */
class BitmapCommandsSpec extends Specification {
    @TempDir Path dir

    def "bitmap('b0').dirty lists the guest ranges qemu-io's writes marked"() {
        given:
        def img = Qemu.create(dir.resolve('r.qcow2'), '8M', 'cluster_size=65536')
        Qemu.img('bitmap', '--add', '-g', '4096', img.toString(), 'b0')
        Qemu.io(img, 'write 5000 100', 'write 1M 8192', 'discard 7M 1M')
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        when:
        def dirty = shell.evaluate("bitmap('b0').dirty")
        def table = shell.evaluate('bitmaps')

        then:
        dirty.rows.collect { [it.start, it.end] } == [[4096L, 8192L], [1L << 20, (1L << 20) + 8192], [7L << 20, 8L << 20]]
        table.rows*.name == ['b0']

        when:
        shell.evaluate("bitmap('nope').dirty")

        then:
        def e = thrown(DslException)
        e.message == "no bitmap 'nope'; known: [b0]"

        cleanup:
        shell?.close()
    }

    def "a writable session's bitmap changes and writes leave what qemu-img bitmap and qemu-io leave"() {
        given:
        def mine = Qemu.create(dir.resolve('m.qcow2'), '8M', 'cluster_size=65536')
        Qemu.img('bitmap', '--add', mine.toString(), 'old')
        def theirs = dir.resolve('t.qcow2')
        Files.copy(mine, theirs)
        def shell = new DslShell()
        shell.evaluate("open '$mine', writable: true")

        when:
        shell.evaluate("bitmap('a').add granularity: '4k'")
        shell.evaluate("bitmap('d').add disabled: true")
        shell.evaluate("write 0x1000, 'hello'")
        shell.evaluate("zero '2M', '64k'")
        def during = shell.evaluate("bitmap('a').dirty").rows.collect { [it.start, it.end] }
        def listed = shell.evaluate('bitmaps').rows.collect { [it.name, it.auto, it.set_bits] }
        shell.evaluate("bitmap('old').disable()")
        shell.evaluate("bitmap('d').merge 'a'")
        shell.evaluate("bitmap('old').remove()")
        shell.close()
        Qemu.img('bitmap', '--add', '-g', '4k', theirs.toString(), 'a')
        Qemu.img('bitmap', '--add', '--disable', theirs.toString(), 'd')
        Qemu.io(theirs, 'write 4096 5', 'write -z 2M 64k')
        Qemu.img('bitmap', '--disable', theirs.toString(), 'old')
        Qemu.img('bitmap', '--merge', 'a', theirs.toString(), 'd')
        Qemu.img('bitmap', '--remove', theirs.toString(), 'old')

        then:
        during == [[4096L, 8192L], [2L << 20, (2L << 20) + 65536]]
        listed == [['old', true, 2L], ['a', true, 17L], ['d', false, 0L]]
        Bitmaps.info(mine) == Bitmaps.info(theirs)
        Bitmaps.bits(mine) == Bitmaps.bits(theirs)
        Bitmaps.check(mine) == Bitmaps.check(theirs)

        cleanup:
        shell?.close()
    }

    def "changes need a writable image: #code"() {
        given:
        def img = Qemu.create(dir.resolve('ro.qcow2'), '1M')
        def shell = new DslShell()
        shell.evaluate("open '$img'")

        when:
        shell.evaluate(code)

        then:
        def e = thrown(DslException)
        e.message.startsWith('image is open read-only')

        cleanup:
        shell?.close()

        where:
        code << ["bitmap('x').add()", "bitmap('x').remove()", "bitmap('x').clear()"]
    }
}
