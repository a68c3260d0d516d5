package dev.qcow2.chain

import dev.qcow2.testing.Qemu
import dev.qcow2.write.CrashingStorage
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * A safe rebase interrupted at any mutating call (the copies of old data, their metadata, the
 * header rewrite), with executed writes kept or with everything unflushed lost, leaves an image
 * that qemu-img check finds without corruption, still names the old or the new backing file,
 * and shows exactly the guest bytes it showed before.
 */
class RebaseCrashSpec extends Specification {
    @Shared @TempDir Path dir
    @Shared byte[] initial
    @Shared byte[] guest

    static final Rebase.Options OPTIONS = new Rebase.Options('other.qcow2', 'qcow2', false)

    def setupSpec() {
        Chains.build(dir, [['base.qcow2', '', '2M', ['write -P 0x11 0 2M']],
                           ['top.qcow2', 'cluster_size=4k', '2M', ['write -P 0x33 8k 4k', 'write -z 64k 8k', 'write -P 0x34 1M 100k']]])
        Chains.build(dir, [['other.qcow2', '', '2M', ['write -P 0x11 0 512k', 'write -P 0x55 700k 300k', 'write -P 0x66 1500k 5k']]])
        initial = Files.readAllBytes(dir.resolve('top.qcow2'))
        guest = Qemu.rawBytes(dir.resolve('top.qcow2'))
    }

    def "a crash at call #crashAt of #total (#mode) keeps the old content"() {
        given:
        def storage = new CrashingStorage(initial, crashAt, mode)

        when:
        Rebase.rebase(storage, dir.resolve('top.qcow2'), OPTIONS, Progress.NONE)

        then:
        thrown(CrashingStorage.Crash)

        when:
        def crashed = dir.resolve("crashed-${crashAt}-${mode}.qcow2")
        Files.write(crashed, storage.afterCrash())
        def check = Qemu.img(['check', crashed.toString()], false)

        then:
        check.exit in [0, 3]
        Chains.info(crashed).backing in ['base.qcow2', 'other.qcow2']
        Arrays.equals(Qemu.rawBytes(crashed), guest)

        cleanup:
        Files.deleteIfExists(dir.resolve("crashed-${crashAt}-${mode}.qcow2"))

        where:
        [crashAt, total, mode] << crashPoints()
    }

    def "the uninterrupted rebase switches to the new backing file with the same content"() {
        given:
        def storage = new CrashingStorage(initial, Long.MAX_VALUE, CrashingStorage.Mode.STOP)
        def done = dir.resolve('done.qcow2')

        when:
        Rebase.rebase(storage, dir.resolve('top.qcow2'), OPTIONS, Progress.NONE)
        Files.write(done, storage.afterCrash())

        then:
        Qemu.img(['check', done.toString()], false).exit == 0
        Chains.info(done).backing == 'other.qcow2'
        Arrays.equals(Qemu.rawBytes(done), guest)
    }

    /** 20 calls spread over the run, and the last four (the header rewrite among them), in both modes. */
    List<List> crashPoints() {
        def storage = new CrashingStorage(initial, Long.MAX_VALUE, CrashingStorage.Mode.STOP)
        Rebase.rebase(storage, dir.resolve('top.qcow2'), OPTIONS, Progress.NONE)
        long total = storage.calls
        long step = Math.max(1, total.intdiv(20))
        def points = ((1..total).findAll { it % step == 1 } + ((total - 3)..total)).unique()
        CrashingStorage.Mode.values().collectMany { m -> points.collect { [it, total, m] } }
    }
}
