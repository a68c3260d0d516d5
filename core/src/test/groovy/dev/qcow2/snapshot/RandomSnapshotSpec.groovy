package dev.qcow2.snapshot

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * Seeded random sequences of guest writes (plain, compressed, zero, discard) and snapshot
 * create/apply/delete, each done by us or by qemu-img; every state is then checked against
 * qemu-img (check, convert of the active state and of every snapshot, snapshot -l).
 */
class RandomSnapshotSpec extends Specification {
    @TempDir Path dir

    static final List<String> SHAPES = ['cluster_size=65536', 'cluster_size=512', 'cluster_size=16384,extended_l2=on',
                                        'refcount_bits=64', 'compat=0.10', 'cluster_size=4096,refcount_bits=4']

    def "random sequence #seed (#options)"() {
        given:
        def rnd = new Random(seed)
        long size = 1L << 20
        def img = Qemu.create(dir.resolve("r${seed}.qcow2"), "$size", options)
        def m = new SnapshotModel(img, dir, SnapshotModel.clusterSize(options), new byte[(int) size])
        int cs = m.clusterSize
        int clusters = (int) (size / cs)
        def log = []

        when:
        14.times { step ->
            int op = rnd.nextInt(10)
            def ids = m.snapshots.keySet().toList()
            if (op < 4 || (op >= 7 && ids.isEmpty())) {
                long off = rnd.nextInt((int) size - 1)
                int len = Math.min((int) (size - off), 1 + rnd.nextInt(3 * cs))
                log << "write $off+$len"
                m.write(off, len, seed * 100 + step)
            } else if (op == 4) {
                long off = (long) rnd.nextInt(clusters) * cs
                log << "compressed $off"
                m.write(off, cs, seed * 100 + step, true)
            } else if (op == 5) {
                long off = (long) rnd.nextInt(clusters) * cs
                int len = cs * (1 + rnd.nextInt(Math.min(4, clusters - (int) (off / cs))))
                boolean discard = rnd.nextBoolean()
                log << "${discard ? 'discard' : 'zero'} $off+$len"
                m.zero(off, len, discard)
            } else if (op == 6) {
                boolean byQemu = rnd.nextInt(3) == 0
                log << "create by ${byQemu ? 'qemu' : 'us'}"
                byQemu ? m.qemuCreate("s$step") : m.create("s$step")
            } else if (op == 7 || op == 8) {
                String id = ids[rnd.nextInt(ids.size())]
                boolean byQemu = rnd.nextInt(3) == 0
                log << "apply $id by ${byQemu ? 'qemu' : 'us'}"
                byQemu ? m.qemuApply(id) : m.apply(id)
            } else {
                String id = ids[rnd.nextInt(ids.size())]
                boolean byQemu = rnd.nextInt(3) == 0
                log << "delete $id by ${byQemu ? 'qemu' : 'us'}"
                byQemu ? m.qemuDelete(id) : m.delete(id)
            }
        }

        then:
        verifyWithLog(m, log)

        where:
        seed << (1..20)
        options = SHAPES[(seed - 1) % SHAPES.size()]
    }

    private static boolean verifyWithLog(SnapshotModel m, List log) {
        try {
            m.verify()
        } catch (AssertionError e) {
            throw new AssertionError("after ${log}: ${e.message}", e)
        }
        true
    }
}
