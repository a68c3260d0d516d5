package dev.qcow2.write

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * Model-based random test: random writes (aligned and not), zero writes, discards and
 * compressed writes, on our image and on a raw mirror; then qemu-img check and compare.
 * Replay a failure with -Dwrite.seed=SEED (the base seed is printed).
 */
class RandomModelSpec extends Specification {
    static final long BASE_SEED = Long.getLong('write.seed', System.nanoTime())
    static final int SEQUENCES = Integer.getInteger('write.sequences', 50)
    static final List<String> OPTIONS = ['cluster_size=65536', 'cluster_size=4096', 'cluster_size=512,refcount_bits=64',
                                         'compat=0.10,cluster_size=4096', 'extended_l2=on', 'extended_l2=on,cluster_size=16384',
                                         'compression_type=zstd,cluster_size=8192', 'refcount_bits=4,cluster_size=2048',
                                         'lazy_refcounts=on,cluster_size=4096']
    @TempDir Path dir

    def setupSpec() { println "RandomModelSpec base seed: $BASE_SEED (replay with -Dwrite.seed=$BASE_SEED)" }

    def "random sequence #index stays clean and equal to the mirror"() {
        given:
        long seed = BASE_SEED + index
        def rnd = new Random(seed)
        String options = OPTIONS[rnd.nextInt(OPTIONS.size())]
        boolean withBacking = rnd.nextInt(3) == 0
        boolean withSnapshot = rnd.nextInt(3) == 0
        int cs = WriteShapesSpec.clusterSize(options)
        long size = (long) cs * (8 + rnd.nextInt(40)) + 512 * rnd.nextInt(cs.intdiv(512))
        byte[] base = null
        List<String> extra = []
        if (withBacking) {
            base = Mirror.pattern(seed, (int) size)
            def raw = dir.resolve('base.raw')
            Files.write(raw, base)
            extra = ['-b', raw.toString(), '-F', 'raw']
        }
        def img = Qemu.create(dir.resolve('r.qcow2'), "$size", options, extra)
        def mirror = new Mirror(size, cs, options.contains('compat=0.10') ? 2 : 3, base)
        def ops = new RandomOps(seed, size, cs)
        def log = []

        when:
        def w = Qcow2Writer.open(img, WriteOptions.defaults())
        try {
            for (int i = 0; i < 40; i++) {
                if (withSnapshot && i == 15) {
                    w.close()
                    Qemu.img('snapshot', '-c', 's1', img.toString())
                    log << 'snapshot'
                    w = Qcow2Writer.open(img, WriteOptions.defaults())
                } else if (i % 13 == 12) {
                    w.close()
                    w = Qcow2Writer.open(img, WriteOptions.defaults())
                    log << 'reopen'
                }
                log << ops.step(w, mirror)
            }
        } finally {
            w.close()
        }

        then:
        try {
            mirror.verify(img, dir)
        } catch (AssertionError e) {
            throw new AssertionError("seed $seed options $options backing=$withBacking ops=$log\n${e.message}", e)
        }

        where:
        index << (0..<SEQUENCES)
    }
}
