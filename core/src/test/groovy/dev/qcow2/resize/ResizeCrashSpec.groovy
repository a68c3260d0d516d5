package dev.qcow2.resize

import dev.qcow2.testing.Qemu
import dev.qcow2.write.CrashingStorage
import dev.qcow2.write.Qcow2Writer
import dev.qcow2.write.WriteOptions
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.file.Files
import java.nio.file.Path

/**
 * A crash at every mutating call of a grow (L1 growth), a shrink (discard, L1 and refblock
 * release, tail cut) and a second grow leaves an image qemu-img check finds without
 * corruption (leaks allowed), with one of the sizes of the sequence and the kept data intact.
 */
class ResizeCrashSpec extends Specification {
    @TempDir Path dir
    /** The starting image, made once for all rows (rows only read it), and its first KEPT guest bytes as qemu-img reads them. */
    @Shared @TempDir Path shared
    @Shared byte[] keptReference

    static final long KEPT = 60 * 1024
    static final List<Long> SIZES = [1024L * 1024, 3L * 1024 * 1024, 100L * 1024, 2L * 1024 * 1024]

    def "a crash at call #crashAt of #total (#mode) leaves a consistent image"() {
        given:
        byte[] initial = Files.readAllBytes(image())
        def storage = new CrashingStorage(initial, crashAt, mode)

        when:
        run(storage)

        then:
        thrown(CrashingStorage.Crash)

        when:
        def crashed = dir.resolve('crashed.qcow2')
        Files.write(crashed, storage.afterCrash())
        def check = Qemu.img(['check', crashed.toString()], false)

        then:
        check.exit in [0, 3]
        ByteBuffer.wrap(Files.readAllBytes(crashed), 24, 8).getLong() in SIZES
        Arrays.equals(Arrays.copyOf(Qemu.rawBytes(crashed), (int) KEPT), keptReference())

        where:
        [crashAt, total, mode] << crashPoints()
    }

    /** 512-byte clusters with a snapshot, so that the L1 table grows and shared tables are released. */
    private Path image() { image(shared) }

    private static Path image(Path dir) {
        def img = dir.resolve('base.qcow2')
        if (!Files.exists(img)) {
            Qemu.create(img, "${SIZES[0]}", 'cluster_size=512')
            Qemu.io(img, "write -P 0x31 0 ${SIZES[0]}")
            Qemu.img('snapshot', '-c', 'snap', img.toString())
            Qemu.io(img, "write -P 0x32 ${KEPT} 100k", "write -P 0x33 900k 100k")
        }
        img
    }

    private byte[] keptReference() {
        keptReference = keptReference ?: Arrays.copyOf(Qemu.rawBytes(image()), (int) KEPT)
    }

    static void run(CrashingStorage storage) {
        Qcow2Writer.open(storage, null, WriteOptions.defaults()).withCloseable { w ->
            SIZES.drop(1).each { Resizer.resize(w, it) }
        }
    }

    /** 30 calls spread evenly over the whole run (offset so that they do not all fall on the same step), and the last five, in both modes. */
    static List<List> crashPoints() {
        Path tmp = Files.createTempDirectory('crashpoints')
        def storage = new CrashingStorage(Files.readAllBytes(image(tmp)), Long.MAX_VALUE, CrashingStorage.Mode.STOP)
        run(storage)
        long total = storage.calls
        tmp.toFile().deleteDir()
        long step = Math.max(1, total.intdiv(30))
        def points = ((1..total).findAll { it % step == 3 % step } + ((total - 4)..total)).unique()
        CrashingStorage.Mode.values().collectMany { m -> points.collect { [it, total, m] } }
    }
}
