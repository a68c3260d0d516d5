package dev.qcow2.image

import dev.qcow2.Qcow2Exception
import dev.qcow2.check.ImageChecker
import dev.qcow2.testing.FaultyStorage
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * Reading and checking under read faults: EIO at every read, a short read and a flipped bit at
 * every read of open + whole-guest read + check. The only outcomes are success or an IOException
 * (a Qcow2Exception for what the fault made look corrupt); nothing else escapes, nothing is written.
 */
class ReadFaultSpec extends Specification {
    @TempDir Path dir

    def "#fault at every read of open, read and check: only IOExceptions escape, nothing written"() {
        given:
        def img = Qemu.create(dir.resolve('r.qcow2'), '256K', 'cluster_size=4096')
        Qemu.io(img, 'write -P 0x5a 0 20k', 'write -c -P 0x11 64k 4k', 'write -z 128k 8k')
        Qemu.img('snapshot', '-c', 's1', img.toString())
        byte[] initial = Files.readAllBytes(img)
        def probe = new FaultyStorage('r.qcow2', initial)
        assert run(probe) == null
        long points = probe.reads

        expect:
        (1..points).each { long n ->
            def storage = new FaultyStorage('r.qcow2', initial)
            switch (fault) {
                case 'EIO' -> storage.failReadAt = n
                case 'short read' -> { storage.shortReadAt = n; storage.shortReadBytes = 3 }
                case 'bit flip' -> { storage.flipReadAt = n; storage.flipByte = (int) (n * 7919); storage.flipBit = (int) n }
            }
            def result = run(storage)
            assert result == null || result instanceof IOException: "$fault at read $n: $result"
            if (fault == 'EIO') assert result != null: "EIO at read $n was swallowed"
            assert storage.writes == 0
            assert Arrays.equals(storage.bytes(), initial)
        }

        where:
        fault << ['EIO', 'short read', 'bit flip']
    }

    private static Throwable run(FaultyStorage storage) {
        try {
            try (def image = Qcow2Image.open(storage, null, OpenOptions.forChecking())) {
                byte[] buf = new byte[(int) image.size()]
                image.read(dev.qcow2.units.GuestOffset.of(0), buf, 0, buf.length)
                ImageChecker.check(image)
                image.snapshots()
            }
            null
        } catch (Qcow2Exception e) {
            e
        } catch (IOException e) {
            e
        } catch (Throwable t) {
            t
        }
    }
}
