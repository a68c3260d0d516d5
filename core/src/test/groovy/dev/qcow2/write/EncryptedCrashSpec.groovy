package dev.qcow2.write

import dev.qcow2.snapshot.Snapshots
import dev.qcow2.storage.BorrowedStorage
import dev.qcow2.storage.MemoryWritableStorage
import dev.qcow2.testing.EncryptedImages
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path
import java.time.Instant

/**
 * Crash simulation on encrypted images, as {@link CrashSafetySpec}: writes (sector-unaligned ones
 * read-modify-write whole sectors), zero writes, discards, and copy-on-write of clusters a
 * snapshot shares (re-encrypted for their new host offset), with a snapshot created between
 * the phases. After a crash at a random write qemu-img check (with the key) finds no
 * corruption, the data of the completed flush and the first snapshot read back, and the image
 * opens for writing again. Replay with -Dcrash.seed=SEED.
 */
class EncryptedCrashSpec extends Specification {
    static final long BASE_SEED = Long.getLong('crash.seed', System.nanoTime())
    static final int RUNS = Integer.getInteger('crash.runs', 24)
    static final List<String> OPTIONS = ['cluster_size=4096', 'cluster_size=512', 'compat=0.10,cluster_size=4096',
                                         'extended_l2=on,cluster_size=16384', 'cluster_size=65536']
    @TempDir Path dir

    def setupSpec() {
        println "EncryptedCrashSpec base seed: $BASE_SEED (replay with -Dcrash.seed=$BASE_SEED)"
    }

    def "#format: a crash at a random write (#mode, run #index) leaves no corruption and keeps flushed data"() {
        given:
        long seed = BASE_SEED + index
        def rnd = new Random(seed)
        String options = OPTIONS[rnd.nextInt(OPTIONS.size())]
        int cs = WriteShapesSpec.clusterSize(options)
        long size = Math.max((long) cs * 32, 256 * 1024)
        def img = EncryptedImages.createByUs(dir.resolve('c.qcow2'), "$size", format, 'pw', options)
        EncryptedImages.io(img, 'pw', ["write -P 0x5a 0 ${Math.min(size, (long) cs * 8)}".toString()])
        dev.qcow2.testing.Qemu.img(['snapshot', '-c', 's1'] + EncryptedImages.secret('s0', 'pw') + ['--image-opts', EncryptedImages.imageOpts(img, 's0')])
        byte[] initial = Files.readAllBytes(img)
        byte[] before = EncryptedImages.raw(img, 'pw')
        long calls = scenario(new CrashingStorage(initial, Long.MAX_VALUE, mode), img, seed, cs, options, before).storage.calls
        def storage = new CrashingStorage(initial, 1 + (long) (rnd.nextDouble() * calls), mode)

        when:
        def run = scenario(storage, img, seed, cs, options, before)
        def crashed = dir.resolve('crashed.qcow2')
        Files.write(crashed, storage.afterCrash())
        def check = EncryptedImages.check(crashed, 'pw')

        // a crash inside the snapshot create may leave OFLAG_COPIED bits missing (safe; see SnapshotCrashSpec)
        then: 'no corruption (exit 0, or 3 = leaks only); it opens for writing again with the key'
        run.log.last().startsWith('CRASH')
        assert check.exit in [0, 3] || check.exit == 2 && onlyMissingCopiedBits(check.err): "seed $seed $options ops=${run.log}\n$check"
        Qcow2Writer.open(new MemoryWritableStorage('again', storage.afterCrash()), crashed, WriteOptions.defaults().withSecrets(EncryptedImages.top('pw'))).close()

        and: 'the flushed first half and the snapshot qemu made read back through qemu-img with the key'
        long half = size.intdiv(2)
        if (run.flushed != null) {
            assert Arrays.equals(Arrays.copyOf(EncryptedImages.raw(crashed, 'pw'), (int) half), run.flushed): "seed $seed $options ops=${run.log}"
        }
        EncryptedImages.raw(crashed, 'pw', 's1') == before

        where:
        [format, mode, index] << [['aes', 'luks'], CrashingStorage.Mode.values().toList(), (0..<RUNS.intdiv(2))].combinations()
    }

    /** Only "ERROR OFLAG_COPIED ... refcount=1" findings: a missing bit on an unshared cluster (safe; see SnapshotCrashSpec). */
    static boolean onlyMissingCopiedBits(String err) {
        def errors = err.readLines().findAll { it.startsWith('ERROR') }
        !errors.isEmpty() && errors.every { it ==~ /ERROR OFLAG_COPIED (data|L2) cluster: .* refcount=1/ }
    }

    /** Phase 1 in the first half, close (flush), a snapshot, phase 2 in the second half; returns the op log and the flushed first half. */
    private Map scenario(CrashingStorage storage, Path img, long seed, int cs, String options, byte[] before) {
        long half = before.length.intdiv(2)
        def mirror = new Mirror(before.length, cs, options.contains('compat=0.10') ? 2 : 3)
        mirror.write(0, before)
        def key = WriteOptions.defaults().withSecrets(EncryptedImages.top('pw'))
        def log = []
        byte[] flushed = null
        try {
            def w = Qcow2Writer.open(new BorrowedStorage(storage), img, key)
            def rnd = new Random(seed)
            for (int i = 0; i < 10; i++) log << step(rnd, w, mirror, 0, half, cs)
            w.close()
            flushed = Arrays.copyOf(mirror.bytes, (int) half)
            Snapshots.open(new BorrowedStorage(storage), EncryptedImages.top('pw')).withCloseable { it.create('mid', Instant.ofEpochSecond(5)) }
            log << 'snapshot mid'
            w = Qcow2Writer.open(new BorrowedStorage(storage), img, key)
            for (int i = 0; i < 10; i++) log << step(rnd, w, mirror, half, before.length - half, cs)
            w.close()
        } catch (CrashingStorage.Crash expected) {
            log << "CRASH at call ${storage.calls}"
        }
        [storage: storage, log: log, flushed: flushed]
    }

    /** One random op inside [from, from+span): a write (often sector-unaligned), a zero write, or a discard. */
    private static String step(Random rnd, Qcow2Writer w, Mirror m, long from, long span, int cs) {
        long off = from + (long) (rnd.nextDouble() * (span - 1))
        int len = (int) Math.min(from + span - off, 1 + rnd.nextInt(cs * 2 + 1024))
        switch (rnd.nextInt(6)) {
            case 0..3:
                byte[] data = Mirror.pattern(rnd.nextLong(), len)
                w.write(off, data); m.write(off, data)
                return "write $off $len"
            case 4:
                boolean unmap = rnd.nextBoolean()
                w.writeZeroes(off, len, unmap); m.zero(off, len)
                return "zero $off $len unmap=$unmap"
            default:
                w.discard(off, len); m.discard(off, len)
                return "discard $off $len"
        }
    }
}
