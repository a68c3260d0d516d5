package dev.qcow2.rescue

import dev.qcow2.image.FollowPolicy

import dev.qcow2.Qcow2Exception
import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * Without L2 tables, a shuffled overlay's new clusters of random bytes carry no evidence of their
 * position (no base remnant, no self-naming structure, no allocation order): those rows are not
 * claimed; its rewritten metadata clusters still are placed (the remnant feature below).
 *
 * {@link Rescuer} over a damaged overlay of an intact base: the base an ext4 file system
 * (qemu-img convert), the overlay the 4 KiB blocks a changed copy of it differs in (new files,
 * a file removed) written by qemu-io. OUT is an overlay of the base holding the rescued clusters
 * only; it passes when {@code qemu-img compare OUT CHANGED} finds them identical.
 */
class RescueOverlaySpec extends Specification {
    @Shared @TempDir Path dir
    @Shared Path baseRaw, base, changed

    def setupSpec() {
        Qemu.requireTools()
        baseRaw = RescueFixtures.ext4(dir, 'base', 43)
        base = dir.resolve('base.qcow2')
        Qemu.img('convert', '-O', 'qcow2', baseRaw.toString(), base.toString())
        def rnd = new Random(44)
        def n1 = dir.resolve('new1'), n2 = dir.resolve('new2')
        byte[] b1 = new byte[300_000], b2 = new byte[40_000]
        rnd.nextBytes(b1); rnd.nextBytes(b2)
        Files.write(n1, b1); Files.write(n2, b2)
        changed = RescueFixtures.edited(dir, baseRaw, 'changed.raw', ["write $n1 newfile".toString(), "write $n2 docs/newfile2".toString(), 'rm f1'])
    }

    def "#what zeroed in an overlay written in #order: OUT over the base equals the changed guest"() {
        given:
        def ov = RescueFixtures.overlay(dir, base, baseRaw, changed, "ov-$order-${what}.qcow2", order == 'shuffled order')
        RescueSpec.damage(ov, what)
        def out = dir.resolve("o-$order-${what}.qcow2")

        when:
        def report = Rescuer.rescue(ov, out, new RescueOptions(null, null, base, 'qcow2', FollowPolicy.none()))

        then: 'OUT is an overlay of the base, equal to the changed guest'
        Qemu.img(['check', out.toString()], false).exit == 0
        Qemu.img('info', out.toString()).out.contains("backing file: ${base.toAbsolutePath()}")
        Qemu.img(['compare', out.toString(), changed.toString()], false).exit == 0
        report.structures().any { it.kind() == 'backing file' }

        where:
        [order, what] << [['guest order'], ['header', 'l1', 'l2', 'refcount', 'header+l1', 'all']].combinations() +
                [['shuffled order'], ['header', 'l1', 'refcount', 'header+l1']].combinations()
    }

    def "the base's blocks left in a rewritten cluster place it (copy-on-write remnants)"() {
        given:
        def ov = RescueFixtures.overlay(dir, base, baseRaw, changed, 'remnant.qcow2', true)
        RescueSpec.damage(ov, 'l2')

        when:
        def report = Rescuer.rescue(ov, dir.resolve('remnant-out.qcow2'), new RescueOptions(null, null, base, null, FollowPolicy.none()))

        then:
        report.placed()[Placement.COW_REMNANT] > 0
    }

    def "an overlay whose header names its base, not followed and not given: one line, nothing written"() {
        given:
        def ov = RescueFixtures.overlay(dir, base, baseRaw, changed, 'named.qcow2', false)
        def out = dir.resolve('named-out.qcow2')

        when:
        Rescuer.rescue(ov, out, RescueOptions.none())

        then:
        def e = thrown(Qcow2Exception)
        e.message.contains('is an overlay of')
        !Files.exists(out)
    }
}
