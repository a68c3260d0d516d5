package dev.qcow2.vmstate

import dev.qcow2.image.Qcow2Image
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.QemuSystem
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * A NUMA guest as libvirt starts one (one memory backend per node, {@code ram-node<N>}): the
 * stream has one RAM block per node, listed largest first, and the guest's main RAM is the nodes
 * one after the other in node order, split around the hole below 4 GiB like one block. The
 * oracle: qemu-system-x86_64 7.2's own RAM files, and its dump-guest-memory of the same guest
 * for where each byte sits in guest-physical space.
 */
class NumaVmStateSpec extends Specification {
    static final long M = 1L << 20, G = 1L << 30

    @TempDir Path dir

    /** Saves a two-node guest (16 MiB + 48 MiB) and returns [image, the RAM in node order, QEMU's core]. */
    List guest(String machine) {
        Path image = Qemu.create(dir.resolve('vm.qcow2'), '64M')
        byte[] pattern = new byte[64 * 1024]
        new Random(3).nextBytes(pattern)
        def g = QemuSystem.startNuma(image, dir, machine, [16, 48], pattern, 16 * M - 32 * 1024) // straddles the nodes
        try {
            byte[] mark = new byte[4096]
            new Random(4).nextBytes(mark)
            new RandomAccessFile(g.nodeFiles[1].toFile(), 'rw').withCloseable { f -> f.seek(40 * M); f.write(mark) }
            g.savevm('s1')
            Path core = dir.resolve('qemu.core')
            assert g.hmp("dump-guest-memory ${core}").trim().isEmpty()
            [image, g.ramBytes(), core]
        } finally {
            g.close()
        }
    }

    private static VmState state(Qcow2Image img) { VmState.of(img, img.findSnapshot('s1').get()) }

    def "#machine: the node blocks are stitched in node order; raw is the nodes' RAM; every byte sits where QEMU's dump has it"() {
        given:
        def (Path image, byte[] ram, Path core) = guest(machine)
        Path raw = dir.resolve('mem.raw')

        when:
        def layout = Qcow2Image.open(image).withCloseable { img -> state(img).export(raw, VmStateFormat.RAW, new MemoryOptions(null, null, below)) }
        def summary = Qcow2Image.open(image).withCloseable { img -> state(img).summary() }

        then: 'the stream lists the larger node first; the main RAM is node 0 then node 1'
        summary.ramBlocks()*.name().take(2) == ['ram-node1', 'ram-node0']
        summary.mainRam()*.name() == ['ram-node0', 'ram-node1']
        layout.block() == 'ram-node0+ram-node1'
        layout.ranges().collect { [it.blockOffset(), it.guestPhysical(), it.length()] } == ranges

        and: 'the raw image holds the nodes at their guest-physical addresses'
        ranges.every { List<Long> r ->
            byte[] got = new byte[(int) r[2]]
            new RandomAccessFile(raw.toFile(), 'r').withCloseable { f -> f.seek(r[1]); f.readFully(got) }
            Arrays.equals(got, Arrays.copyOfRange(ram, (int) r[0], (int) (r[0] + r[2])))
        }

        and: "QEMU's dump-guest-memory has the same bytes at the same addresses (outside the legacy window)"
        long compared = 0
        ElfCoreSpec.loads(core).each { seg ->
            long paddr = seg[0], off = seg[1], size = seg[2]
            for (long p = paddr; p < paddr + size; p += M) {
                long len = Math.min(M, paddr + size - p)
                if (p < 0x100000 && p + len > 0xA0000) continue
                def r = ranges.find { it[1] <= p && p + len <= it[1] + it[2] }
                if (r == null) continue
                assert Arrays.equals(ElfCoreSpec.read(core, off + (p - paddr), (int) len), ElfCoreSpec.read(raw, p, (int) len)):
                        "guest-physical 0x${Long.toHexString(p)}"
                compared += len
            }
        }
        compared >= 63 * M

        where:
        machine                    | below  || ranges
        'pc'                       | null   || [[0L, 0L, 64 * M]]
        'pc,max-ram-below-4g=24M'  | 24 * M || [[0L, 0L, 24 * M], [24 * M, 4 * G, 40 * M]]
    }

    def "an explicit --block list sets the order; one node alone is written flat; a name twice or unknown is one line"() {
        given:
        def (Path image, byte[] ram, Path core) = guest('pc')

        when: 'node 1 first'
        Path swapped = dir.resolve('swapped.raw')
        Qcow2Image.open(image).withCloseable { img -> state(img).export(swapped, VmStateFormat.RAW, new MemoryOptions('ram-node1,ram-node0', null, null)) }
        byte[] s = Files.readAllBytes(swapped)

        then:
        Arrays.equals(Arrays.copyOfRange(s, 0, (int) (48 * M)), Arrays.copyOfRange(ram, (int) (16 * M), (int) (64 * M)))
        Arrays.equals(Arrays.copyOfRange(s, (int) (48 * M), (int) (64 * M)), Arrays.copyOfRange(ram, 0, (int) (16 * M)))

        when: 'one node'
        Path one = dir.resolve('node1.raw')
        Qcow2Image.open(image).withCloseable { img -> state(img).export(one, VmStateFormat.RAW, new MemoryOptions('ram-node1', null, null)) }

        then:
        Arrays.equals(Files.readAllBytes(one), Arrays.copyOfRange(ram, (int) (16 * M), (int) (64 * M)))

        when:
        Qcow2Image.open(image).withCloseable { img -> state(img).export(dir.resolve('x.raw'), VmStateFormat.RAW, new MemoryOptions(blocks, null, null)) }

        then:
        def e = thrown(VmStateException)
        e.message.contains(words)
        !Files.exists(dir.resolve('x.raw'))

        where:
        blocks                    | words
        'ram-node0,ram-node0'     | "RAM block 'ram-node0' named twice"
        'ram-node0,nope'          | "no RAM block 'nope' (the stream has ram-node1, ram-node0"
    }
}
