package dev.qcow2.resize

import dev.qcow2.create.Preallocation
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
 * A crash at every mutating call of preallocating grows — falloc (a new refcount table from
 * qcow2_refcount_area, the data area, the L2 entries), metadata (L2 tables and data clusters
 * from the allocator, copy-on-write of the partial head) and full — followed by a shrink whose
 * freed clusters are punched, leaves an image qemu-img check finds without corruption (leaks
 * allowed), with one of the sizes of the sequence and the kept data intact.
 */
class ResizePreallocationCrashSpec extends Specification {
    @TempDir Path dir
    /** The starting image, made once for all rows (rows only read it), and its first KEPT guest bytes as qemu-img reads them. */
    @Shared @TempDir Path shared
    @Shared byte[] keptReference

    static final long KEPT = 60 * 1024
    static final long START = 1000L * 1024
    /** size and preallocation of each step after the start. */
    static final List<List> STEPS = [[3L << 20, Preallocation.FALLOC], [(4L << 20) + 1536, Preallocation.METADATA],
                                     [5L << 20, Preallocation.FULL], [512L * 1024, Preallocation.OFF]]

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
        ByteBuffer.wrap(Files.readAllBytes(crashed), 24, 8).getLong() in [START] + STEPS*.get(0)
        Arrays.equals(Arrays.copyOf(Qemu.rawBytes(crashed), (int) KEPT), keptReference())

        where:
        [crashAt, total, mode] << crashPoints()
    }

    /** 512-byte clusters (the refcount table must grow), data up to an unaligned end. */
    private Path image() { image(shared) }

    private static Path image(Path dir) {
        def img = dir.resolve('base.qcow2')
        if (!Files.exists(img)) {
            Qemu.create(img, "$START", 'cluster_size=512')
            Qemu.io(img, "write -P 0x31 0 $START")
        }
        img
    }

    private byte[] keptReference() {
        keptReference = keptReference ?: Arrays.copyOf(Qemu.rawBytes(image()), (int) KEPT)
    }

    static void run(CrashingStorage storage) {
        Qcow2Writer.open(storage, null, WriteOptions.defaults()).withCloseable { w ->
            STEPS.each { Resizer.resize(w, (long) it[0], (Preallocation) it[1]) }
        }
    }

    /** 30 calls spread over the run, and the last five, in both modes. */
    static List<List> crashPoints() {
        Path tmp = Files.createTempDirectory('crashpoints')
        def storage = new CrashingStorage(Files.readAllBytes(image(tmp)), Long.MAX_VALUE, CrashingStorage.Mode.STOP)
        run(storage)
        long total = storage.calls
        tmp.toFile().deleteDir()
        long step = Math.max(1, total.intdiv(30))
        def points = ((1..total).findAll { it % step == 5 % step } + ((total - 4)..total)).unique()
        CrashingStorage.Mode.values().collectMany { m -> points.collect { [it, total, m] } }
    }
}
