package dev.qcow2.badinput

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Damage

import dev.qcow2.Qcow2Exception
import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.Timeout

import java.nio.file.Files
import java.nio.file.Path

import static dev.qcow2.testing.Damage.*

/**
 * Backing chains that loop, run too deep or name a missing file: a clear error, never a hang.
 * (qemu-img 7.2's convert hangs on a loop; its info --backing-chain names it.)
 */
@Timeout(60)
class BackingChainDamageSpec extends Specification {
    @Shared Path dir

    def setup() { dir = Files.createTempDirectory('qcow2-chain-damage') }

    def cleanup() { dir?.toFile()?.deleteDir() }

    Path image(String name, String backing = null) {
        Path f = dir.resolve(name)
        if (backing == null) Qemu.create(f, '1M')
        else Qemu.create(f, '1M', null, ['-u', '-b', backing, '-F', 'qcow2'])
        f
    }

    static void rebase(Path f, String backing) {
        Qemu.img('rebase', '-u', '-b', backing, '-F', 'qcow2', f.toString())
    }

    def "a chain a -> b -> a is refused as an infinite loop"() {
        given:
        Path a = image('a.qcow2')
        image('b.qcow2', 'a.qcow2')
        rebase(a, 'b.qcow2')
        String before = Sha256.of(a)

        expect:
        Qemu.img(['info', '--backing-chain', a.toString()], false).err.contains("Backing file '${a}' creates an infinite loop.")

        when:
        exercise(a)

        then:
        Qcow2Exception e = thrown()
        e.message.startsWith(a.toString() + ': Could not open backing file: ')
        e.message.contains("Backing file '${a}' creates an infinite loop.")
        !e.message.contains('\n')
        Sha256.of(a) == before
    }

    def "an image that is its own backing file is refused as an infinite loop"() {
        given:
        Path a = image('self.qcow2')
        rebase(a, 'self.qcow2')
        String before = Sha256.of(a)

        expect:
        Qemu.img(['info', '--backing-chain', a.toString()], false).err.contains("Backing file '${a}' creates an infinite loop.")

        when:
        exercise(a)

        then:
        Qcow2Exception e = thrown()
        e.message.contains("Backing file '${a}' creates an infinite loop.")
        Sha256.of(a) == before
    }

    def "a chain of #images images is #verdict"() {
        given: 'l0 <- l1 <- ... <- top'
        image('l0.qcow2')
        Qemu.io(dir.resolve('l0.qcow2'), 'write -P 7 0 4k')
        (1..<images).each { image("l${it}.qcow2", "l${it - 1}.qcow2") }
        Path top = dir.resolve("l${images - 1}.qcow2")

        when:
        byte[] raw = null
        Qcow2Exception error = null
        try { raw = ourRaw(top) } catch (Qcow2Exception e) { error = e }

        then:
        ok ? raw == Qemu.rawBytes(top) : error instanceof Qcow2Exception
        ok || error.message.startsWith(top.toString() + ': Could not open backing file: ')
        ok || error.message.contains('backing chain is deeper than 64 images')

        where:
        images || ok
        64     || true
        65     || false
        verdict = ok ? 'read like qemu-img' : 'refused (depth > 64)'
    }

    def "a missing backing file is named as qemu-img names it"() {
        given:
        Path f = image('orphan.qcow2', 'missing.qcow2')
        String before = Sha256.of(f)
        String reason = "Could not open backing file: Could not open '${dir.resolve('missing.qcow2')}': No such file or directory"

        expect:
        qemuRefusal(['convert', '-O', 'raw', f.toString(), dir.resolve('out.raw').toString()]).contains(reason)

        when:
        exercise(f)

        then:
        Qcow2Exception e = thrown()
        e.message == "${f}: ${reason}".toString()
        Sha256.of(f) == before
    }
}
