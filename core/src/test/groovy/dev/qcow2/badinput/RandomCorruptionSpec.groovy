package dev.qcow2.badinput

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Damage

import dev.qcow2.Qcow2Exception
import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.Timeout

import java.lang.management.ManagementFactory
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

import static dev.qcow2.testing.Damage.*

/**
 * Seeded random corruption of small real images (made by qemu-img): bytes flipped in cluster 0
 * and in metadata clusters (L1, L2, refcount table and blocks, snapshot table and L1s, bitmap
 * directory and tables), metadata words overwritten with hostile values, files truncated.
 * Invariant: open + read the whole disk + snapshots + bitmaps either succeeds or throws a
 * {@link Qcow2Exception} with a one-line message - never another exception, never a hang,
 * never a large allocation, never a write to the file.
 *
 * <p>Replay: {@code -Dqcow2.fuzz.seed=N} (the seed is printed, and each case name carries its own).
 */
class RandomCorruptionSpec extends Specification {
    static final int CASES_PER_BASE = Integer.getInteger('qcow2.fuzz.cases', 40)
    static final long SEED = Long.getLong('qcow2.fuzz.seed', new Random().nextLong())
    /** Every size read from an image is checked before allocating: no case may allocate more. */
    static final long MAX_ALLOCATED_BYTES = 256L << 20

    static final Map<String, Closure<Void>> BASES = [
        'v2'         : { Path f -> Qemu.create(f, '2M', 'compat=0.10,cluster_size=4096'); Qemu.io(f, 'write -P 1 0 64k', 'write -P 2 1M 8k') },
        'v3'         : { Path f -> Qemu.create(f, '2M'); Qemu.io(f, 'write -P 1 0 64k', 'write -z 64k 64k', 'write -P 3 1536k 4k') },
        'zlib'       : { Path f -> Qemu.create(f, '1M', 'cluster_size=4096'); Qemu.io(f, 'write -c -P 7 0 4k', 'write -c -P 8 4k 4k', 'write -c -P 9 64k 4k') },
        'zstd'       : { Path f -> Qemu.create(f, '1M', 'compression_type=zstd'); Qemu.io(f, 'write -c -P 7 0 64k', 'write -c -P 8 128k 64k') },
        'snapshots'  : { Path f -> Qemu.create(f, '1M'); Qemu.io(f, 'write -P 1 0 64k'); Qemu.img('snapshot', '-c', 's1', f.toString())
                                  Qemu.io(f, 'write -P 2 0 64k'); Qemu.img('snapshot', '-c', 's2', f.toString()) },
        'bitmaps'    : { Path f -> Qemu.create(f, '1M'); Qemu.img('bitmap', '--add', f.toString(), 'b0')
                                  Qemu.img('bitmap', '--add', '-g', '4096', f.toString(), 'b1'); Qemu.io(f, 'write -P 1 0 64k') },
        'extended_l2': { Path f -> Qemu.create(f, '1M', 'extended_l2=on,cluster_size=64k'); Qemu.io(f, 'write -P 1 0 4k', 'write -z 8k 4k', 'write -P 2 128k 64k') },
        'small'      : { Path f -> Qemu.create(f, '256k', 'cluster_size=512,refcount_bits=1'); Qemu.io(f, 'write -P 1 0 16k', 'write -P 2 128k 512') },
    ]

    @Shared Path dir
    @Shared Map<String, Path> bases = [:]
    @Shared Map<String, List<long[]>> metadata = [:]
    /** Outcome counts ("opened" or the exception class), printed at the end to show the damage bites. */
    @Shared Map<String, Integer> outcomes = new TreeMap<>()

    def setupSpec() {
        println "RandomCorruptionSpec seed: $SEED (replay with -Dqcow2.fuzz.seed=$SEED)"
        dir = Files.createTempDirectory('qcow2-fuzz')
        BASES.each { name, make ->
            Path f = dir.resolve("base-${name}.qcow2")
            make(f)
            bases[name] = f
            metadata[name] = MetadataRanges.of(f)
        }
    }

    def cleanupSpec() {
        println "RandomCorruptionSpec outcomes (seed $SEED): $outcomes"
        dir?.toFile()?.deleteDir()
    }

    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    def "random damage #caseName: open, read everything, list snapshots and bitmaps - only Qcow2Exception"() {
        given:
        long seed = SEED * 31 + caseIndex * 0x9E3779B97F4A7C15L + base.hashCode()
        def rnd = new Random(seed)
        Path f = copy(bases[base], "case-${base}-${caseIndex}.qcow2")
        String damage = Mutations.apply(f, rnd, metadata[base])
        String before = Sha256.of(f)
        def threads = (com.sun.management.ThreadMXBean) ManagementFactory.threadMXBean
        long allocatedBefore = threads.getCurrentThreadAllocatedBytes()

        when:
        Throwable failure = null
        try {
            exercise(f, 16L << 20, seed)
        } catch (Throwable t) {
            failure = t
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore
        synchronized (outcomes) { outcomes.merge(failure == null ? 'opened' : failure.class.simpleName, 1, Integer::sum) }

        then:
        def context = "seed $SEED, case seed $seed, damage: $damage"
        if (failure != null && !(failure instanceof Qcow2Exception)) {
            throw new AssertionError("non-Qcow2Exception escaped ($context): $failure", failure)
        }
        assert failure == null || !failure.message.contains('\n'): "multi-line message ($context): ${failure?.message}"
        assert allocated < MAX_ALLOCATED_BYTES: "allocated $allocated bytes ($context)"
        assert Sha256.of(f) == before: "file changed ($context)"

        cleanup:
        Files.deleteIfExists(f)

        where:
        [base, caseIndex] << [BASES.keySet().toList(), (0..<CASES_PER_BASE).toList()].combinations()
        caseName = "${base}#${caseIndex}"
    }
}
