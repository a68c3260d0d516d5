package dev.qcow2.write

import dev.qcow2.storage.MemoryWritableStorage
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * Crash simulation: the engine's storage stops at a random write. The image left behind must
 * open, have no corruption under qemu-img check (leaks are fine) and hold the data of the first
 * phase when that phase's flush completed before the crash. Replay with -Dcrash.seed=SEED.
 */
class CrashSafetySpec extends Specification {
    static final long BASE_SEED = Long.getLong('crash.seed', System.nanoTime())
    static final int RUNS = Integer.getInteger('crash.runs', 40)
    static final List<String> OPTIONS = ['cluster_size=4096', 'cluster_size=512,refcount_bits=64', 'compat=0.10,cluster_size=4096',
                                         'extended_l2=on,cluster_size=16384', 'cluster_size=65536']
    @TempDir Path dir

    def setupSpec() { println "CrashSafetySpec base seed: $BASE_SEED (replay with -Dcrash.seed=$BASE_SEED)" }

    def "a crash at a random write (#mode, run #index) leaves no corruption and keeps flushed data"() {
        given:
        long seed = BASE_SEED + index
        def rnd = new Random(seed)
        String options = OPTIONS[rnd.nextInt(OPTIONS.size())]
        int cs = WriteShapesSpec.clusterSize(options)
        long size = (long) cs * 64
        def img = Qemu.create(dir.resolve('c.qcow2'), "$size", options)
        Qemu.io(img, "write -P 0x5a 0 ${cs * 8}")
        Qemu.img('snapshot', '-c', 's1', img.toString())
        byte[] initial = Files.readAllBytes(img)
        long half = size.intdiv(2)
        byte[] before = Qemu.rawBytes(img)
        long calls = scenario(new CrashingStorage(initial, Long.MAX_VALUE, mode), img, seed, options, before).storage.calls
        def storage = new CrashingStorage(initial, 1 + (long) (rnd.nextDouble() * calls), mode)

        when: 'phase 1 in the first half, flush, phase 2 in the second half; the crash comes at a random write'
        def run = scenario(storage, img, seed, options, before)
        def log = run.log
        byte[] flushedFirstHalf = run.flushed
        def crashed = dir.resolve('crashed.qcow2')
        Files.write(crashed, storage.afterCrash())
        def check = Qemu.img(['check', '--output=json', crashed.toString()], false)

        then: 'no corruption (exit 0 or 3 = leaks only); it opens for writing again'
        log.last().startsWith('CRASH')
        assert check.exit in [0, 3]: "seed $seed $options ops=$log\n$check"
        (check.json().corruptions ?: 0) == 0
        Qcow2Writer.open(new MemoryWritableStorage('again', storage.afterCrash()), crashed, WriteOptions.defaults()).close()

        and: 'data made durable by the completed flush reads back'
        if (flushedFirstHalf != null) {
            byte[] now = Qemu.rawBytes(crashed)
            assert Arrays.equals(Arrays.copyOf(now, (int) half), flushedFirstHalf): "seed $seed $options ops=$log"
        }
        Qemu.rawBytes(crashed, 's1') == Arrays.copyOf(initialGuest(initial), (int) size)

        where:
        [mode, index] << [CrashingStorage.Mode.values().toList(), (0..<RUNS.intdiv(2))].combinations()
    }

    /** Runs both phases on {@code storage}; returns the op log and the first half as of the completed flush (or null). */
    private Map scenario(CrashingStorage storage, Path img, long seed, String options, byte[] before) {
        int cs = WriteShapesSpec.clusterSize(options)
        long half = before.length.intdiv(2)
        def mirror = new Mirror(before.length, cs, options.contains('compat=0.10') ? 2 : 3)
        mirror.write(0, before)
        def log = []
        byte[] flushed = null
        try {
            def w = Qcow2Writer.open(storage, img, WriteOptions.defaults())
            def ops1 = new RandomOps(seed, half, cs)
            for (int i = 0; i < 12; i++) log << ops1.step(w, mirror)
            w.flush()
            flushed = Arrays.copyOf(mirror.bytes, (int) half)
            def ops2 = new RandomOps(seed + 1, half, cs)
            def shifted = new ShiftedWriter(w, half)
            for (int i = 0; i < 12; i++) log << ops2.step(shifted.writer(), shifted.mirror(mirror))
            w.close()
        } catch (CrashingStorage.Crash expected) {
            log << "CRASH at call ${storage.calls}"
        }
        [storage: storage, log: log, flushed: flushed]
    }

    private byte[] initialGuest(byte[] initial) {
        def f = dir.resolve('initial.qcow2')
        Files.write(f, initial)
        Qemu.rawBytes(f)
    }
}
