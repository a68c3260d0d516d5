package dev.qcow2.model

import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * Model-based random test (issue 3 §5): random writes (aligned and not), zero writes (with and
 * without unmap), discards, compressed writes, snapshot create/apply/delete (by us, sometimes
 * by qemu-img) and resizes, applied to an image and to a {@link GuestModel}; then qemu-img must
 * find the image clean and equal to the model, active state and every snapshot.
 *
 * <p>Each seed picks its image kind and its operations. Replay one with
 * {@code -Dqcow2.seed=N}; run more with {@code -Dqcow2.sequences=N} (default 300), longer ones
 * with {@code -Dqcow2.ops=N} (a replay needs the same value). The test run ({@code mvn verify},
 * CI) uses the fixed seeds from {@link #DEFAULT_BASE_SEED} on, so that it is repeatable; the
 * exploration campaigns outside CI take new ones with {@code -Dqcow2.baseSeed=random} (or a
 * number). Seeds found failing and not yet fixed are listed in the README (Known differences).
 */
class RandomOpsModelSpec extends Specification {
    static final Long ONLY_SEED = Long.getLong('qcow2.seed')
    static final int SEQUENCES = Integer.getInteger('qcow2.sequences', 300)
    /** Operations per sequence: 10..(9+OPS); -Dqcow2.ops=N for longer sequences. */
    static final int OPS = Integer.getInteger('qcow2.ops', 16)
    static final long DEFAULT_BASE_SEED = 20_261_204
    static final long BASE_SEED = baseSeed(System.getProperty('qcow2.baseSeed'))

    static long baseSeed(String property) {
        if (property == null) return DEFAULT_BASE_SEED
        property == 'random' ? new Random().nextInt(1_000_000_000) : Long.parseLong(property)
    }

    @Shared @TempDir Path templates
    @TempDir Path dir

    static List<Long> seeds() {
        ONLY_SEED != null ? [ONLY_SEED] : (0..<SEQUENCES).collect { BASE_SEED + it }
    }

    def "seed #seed on #kind: qemu-img finds the image clean and equal to the model"() {
        given:
        def rnd = new Random(seed)
        long size = kind.sizes()[rnd.nextInt(3)]
        def image = ImageKind.image(kind, templates, size, dir.resolve('m.qcow2'))
        byte[] backing = kind.backingBytes()
        def model = new GuestModel(kind, size, backing)
        def session = new ImageSession(image)
        def ops = new ModelOps(seed, kind, model, session)
        def log = []

        when:
        try {
            int n = 10 + rnd.nextInt(OPS)
            for (int i = 0; i < n; i++) log << ops.step()
        } catch (Throwable e) {
            throw new AssertionError("seed $seed ($kind) failed in step ${log.size() + 1} (${ops.attempting}) after $log: $e", e)
        } finally {
            session.close()
        }

        then:
        try {
            model.verify(image, dir)
        } catch (AssertionError e) {
            throw new AssertionError("seed $seed ($kind), ops $log:\n${e.message}", e)
        }

        where:
        seed << seeds()
        kind = ImageKind.of(seed)
    }
}
