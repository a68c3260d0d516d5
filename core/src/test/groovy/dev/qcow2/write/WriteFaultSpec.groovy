package dev.qcow2.write

import dev.qcow2.check.ImageChecker
import dev.qcow2.image.OpenOptions
import dev.qcow2.image.Qcow2Image
import dev.qcow2.testing.FaultyStorage
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * The writer under EIO and ENOSPC at every mutating call of a scenario (the write points are
 * enumerated as the crash specs do: count the calls of a fault-free run, then fail at each).
 * After the fault: the error is an IOException naming the file, the image left behind has no
 * corruption under our check and qemu-img check (leaks allowed), and data made durable by a
 * completed flush reads back.
 */
class WriteFaultSpec extends Specification {
    @TempDir Path dir

    def "#fault at every write point of #options: one clear error, no corruption, flushed data kept"() {
        given:
        int cs = WriteShapesSpec.clusterSize(options)
        long size = (long) cs * 32
        def img = Qemu.create(dir.resolve('f.qcow2'), "$size", options)
        Qemu.io(img, "write -P 0x5a 0 ${cs * 4}")
        byte[] initial = Files.readAllBytes(img)
        def probe = new FaultyStorage('f.qcow2', initial)
        assert scenario(probe, img, cs) == null
        long points = probe.writes

        expect:
        points > 5
        (1..points).each { long n ->
            def storage = new FaultyStorage('f.qcow2', initial)
            if (fault == 'EIO') storage.failWriteAt = n
            else storage.spaceLimit = initial.length + (n - 1) * cs
            def result = scenario(storage, img, cs)
            if (fault == 'ENOSPC' && result == null) return   // enough room for the whole scenario
            assert result instanceof dev.qcow2.Qcow2Exception: "$fault at $n: $result"
            assert result.message.contains('f.qcow2'): "$fault at $n: message without the file name: $result.message"
            assert !result.message.contains('\n')

            def left = dir.resolve("left-$fault-${n}.qcow2")
            Files.write(left, storage.bytes())
            def check = Qemu.img(['check', '--output=json', left.toString()], false)
            assert check.exit in [0, 3]: "$fault at $n: $check"
            try (def image = Qcow2Image.open(left, OpenOptions.forChecking())) {
                def report = ImageChecker.check(image)
                assert report.corruptions() == 0 && report.checkErrors() == 0: "$fault at $n: $report"
            }
            // phase 1 (first quarter rewritten with 0x11) was flushed before any fault in phase 2
            if (phase1Writes != Long.MAX_VALUE) {
                byte[] raw = Qemu.rawBytes(left)
                assert raw[0..<(cs * 2)].every { it == 0x11 }: "$fault at $n: flushed data lost"
            }
            Files.delete(left)
        }

        where:
        [fault, options] << [['EIO', 'ENOSPC'], ['cluster_size=4096', 'cluster_size=512,refcount_bits=1', 'compat=0.10,cluster_size=4096']].combinations()
    }

    /** Mutating calls made by phase 1 when its flush completed in the last scenario run, else Long.MAX_VALUE. */
    long phase1Writes

    /** Phase 1: rewrite allocated data, flush; phase 2: allocate, zero, discard, compress, close. Returns the failure or null. */
    private Throwable scenario(FaultyStorage storage, Path img, int cs) {
        phase1Writes = Long.MAX_VALUE
        try {
            def w = Qcow2Writer.open(storage, img, WriteOptions.defaults())
            w.write(0, ([0x11] * (cs * 2)) as byte[])
            w.flush()
            phase1Writes = storage.writes
            w.write(cs * 8L, ([0x22] * (cs * 6)) as byte[])
            w.writeZeroes(cs * 2L, cs)
            w.discard(cs * 3L, cs)
            w.writeCompressed(cs * 16L, ([0x33] * cs) as byte[])
            w.write(cs * 24L, ([0x44] * (cs * 8)) as byte[])
            w.close()
            null
        } catch (IOException e) {
            e
        }
    }
}
