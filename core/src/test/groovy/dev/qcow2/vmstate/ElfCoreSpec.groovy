package dev.qcow2.vmstate

import dev.qcow2.image.Qcow2Image
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.QemuSystem
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.channels.FileChannel
import java.nio.file.Files
import java.nio.file.Path

/**
 * Our ELF core of a savevm snapshot against the ELF core QEMU itself writes of the same stopped
 * guest (HMP {@code dump-guest-memory}, physical mode): where QEMU's PT_LOAD segments cover
 * main RAM, ours cover the same guest-physical ranges with the same bytes. QEMU's dump also
 * holds what is mapped over RAM in the legacy window (0xA0000-0xFFFFF: option ROMs, the
 * isa-bios alias of pc.bios) and the BIOS ROM below 4 GiB; those are other RAM blocks, not
 * main RAM, and are left out of the comparison (qemu.org docs, "dump-guest-memory").
 */
class ElfCoreSpec extends Specification {
    static final long M = 1L << 20, G = 1L << 30

    @Shared @TempDir Path shared
    @Shared Path image, qemuCore

    def setupSpec() {
        image = Qemu.create(shared.resolve('vm.qcow2'), '64M')
        byte[] pattern = new byte[256 * 1024]
        new Random(99).nextBytes(pattern)
        // 64 MiB with max-ram-below-4g=32M: RAM at [0, 32M) and [4G, 4G + 32M); the pattern straddles the split
        def guest = QemuSystem.start(image, shared.resolve('ram.bin'), 'pc,max-ram-below-4g=32M', 64, pattern, 32 * M - 128 * 1024)
        try {
            byte[] high = new byte[8192]
            new Random(5).nextBytes(high)
            guest.poke(48 * M, high)   // block offset 48M = guest-physical 4G + 16M
            guest.savevm('s1')
            qemuCore = shared.resolve('qemu.core')
            String out = guest.hmp("dump-guest-memory ${qemuCore}")
            assert out.trim().isEmpty(): out
        } finally {
            guest.close()
        }
    }

    /** PT_LOAD segments of an ELF64 core: [paddr, fileOffset, filesz]. */
    static List<List<Long>> loads(Path core) {
        FileChannel.open(core).withCloseable { ch ->
            ByteBuffer h = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN)
            ch.read(h, 0)
            long phoff = h.getLong(32)
            int phentsize = h.getShort(54) & 0xffff, phnum = h.getShort(56) & 0xffff
            ByteBuffer ph = ByteBuffer.allocate(phentsize * phnum).order(ByteOrder.LITTLE_ENDIAN)
            ch.read(ph, phoff)
            (0..<phnum).findResults { i ->
                int base = i * phentsize
                ph.getInt(base) == 1 ? [ph.getLong(base + 24), ph.getLong(base + 8), ph.getLong(base + 32)] : null
            }
        }
    }

    static byte[] read(Path file, long offset, int length) {
        FileChannel.open(file).withCloseable { ch ->
            ByteBuffer b = ByteBuffer.allocate(length)
            while (b.hasRemaining()) { if (ch.read(b, offset + b.position()) < 0) break }
            b.array()
        }
    }

    def "our PT_LOADs are main RAM's ranges and hold QEMU's dump-guest-memory bytes there"() {
        given:
        Path ours = shared.resolve('ours.core')
        Qcow2Image.open(image).withCloseable { img ->
            VmState.of(img, img.findSnapshot('s1').get()).export(ours, VmStateFormat.ELF, new MemoryOptions(null, null, 32 * M))
        }
        def mine = loads(ours)
        def theirs = loads(qemuCore)

        expect: 'main RAM in two ranges, split at max-ram-below-4g'
        mine.collect { [it[0], it[2]] } == [[0L, 32 * M], [4 * G, 32 * M]]

        and: 'every byte QEMU dumped inside those ranges (outside the legacy window) is ours at the same address'
        long compared = 0
        theirs.each { seg ->
            long paddr = seg[0], off = seg[1], size = seg[2]
            for (long p = paddr; p < paddr + size; p += M) {
                long len = Math.min(M, paddr + size - p)
                if (p < 0x100000 && p + len > 0xA0000) continue      // the legacy window: ROMs over RAM
                def mineSeg = mine.find { it[0] <= p && p + len <= it[0] + it[2] }
                if (mineSeg == null) continue                          // pc.bios below 4 GiB, not main RAM
                byte[] a = read(qemuCore, off + (p - paddr), (int) len)
                byte[] b = read(ours, mineSeg[1] + (p - mineSeg[0]), (int) len)
                assert Arrays.equals(a, b): "guest-physical 0x${Long.toHexString(p)}: QEMU's dump and ours differ"
                compared += len
            }
        }
        compared >= 63 * M        // all of main RAM but the window
    }
}
