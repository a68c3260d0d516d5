package dev.qcow2.vmstate

import dev.qcow2.image.Qcow2Image
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.QemuSystem
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.channels.FileChannel
import java.nio.file.Files
import java.nio.file.Path

/**
 * savevm by qemu-system-x86_64 7.2 into images of every geometry that moves the VM state
 * (cluster size, extended L2, a disk size that is or is not a multiple of the L1 coverage), on
 * pc and q35, and guests whose RAM is split at 4 GiB: our raw image against the RAM file.
 */
class VmStateGeometrySpec extends Specification {
    static final long M = 1L << 20, G = 1L << 30

    @TempDir Path dir

    /** A guest on a fresh image: pattern at 1 MiB, a page of 0x5c at {@code pokeAt}; savevm s1; the RAM file's bytes. */
    private byte[] savevm(Path image, String machine, long pokeAt = 40 * M) {
        byte[] pattern = new byte[3 * 4096 + 100]
        new Random(pokeAt).nextBytes(pattern)
        QemuSystem guest = QemuSystem.start(image, dir.resolve('ram.bin'), machine, 64, pattern, 0x100000)
        try {
            byte[] page = new byte[4096]
            Arrays.fill(page, (byte) 0x5c)
            guest.poke(pokeAt, page)
            guest.savevm('s1')
            return guest.ramBytes()
        } finally {
            guest.close()
        }
    }

    def "#machine, #options, disk #disk: the state is at #expectedOffset and raw is the RAM file"() {
        given:
        Path image = dir.resolve('g.qcow2')
        Qemu.img('create', '-f', 'qcow2', '-o', options, image.toString(), disk)
        byte[] ram = savevm(image, machine)
        Path raw = dir.resolve('mem.raw')

        when:
        def (loc, summary) = Qcow2Image.open(image).withCloseable { img ->
            def st = VmState.of(img, img.findSnapshot('s1').get())
            st.export(raw, VmStateFormat.RAW, MemoryOptions.defaults())
            [st.location(), st.summary()]
        }

        then:
        loc.offset().value() == expectedOffset
        summary.machineType().startsWith(machine == 'pc' ? 'pc-i440fx-' : 'pc-q35-')
        summary.incomplete() == null
        summary.cpus().size() == 1
        Arrays.equals(Files.readAllBytes(raw), ram)

        where:
        machine | options                                | disk      | expectedOffset
        'pc'    | 'cluster_size=65536'                   | '100M'    | 512 * M   // 512 MiB per L1 entry
        'q35'   | 'cluster_size=65536'                   | '1G'      | 1 * G     // a multiple of the coverage: right at the end
        'pc'    | 'cluster_size=65536'                   | '1025M'   | 1536 * M  // not a multiple
        'q35'   | 'cluster_size=4096'                    | '100M'    | 100 * M   // 2 MiB per L1 entry
        'pc'    | 'cluster_size=2M'                      | '100M'    | 512 * G   // 512 GiB per L1 entry
        'q35'   | 'cluster_size=65536,extended_l2=on'    | '300M'    | 512 * M   // 256 MiB per L1 entry
        'pc'    | 'cluster_size=131072,extended_l2=on'   | '100M'    | 1 * G     // 1 GiB per L1 entry
    }

    def "#machine with max-ram-below-4g=32M: raw puts the first 32 MiB at 0 and the rest at 4 GiB; LiME and ELF have two ranges"() {
        given:
        Path image = Qemu.create(dir.resolve('split.qcow2'), '64M')
        byte[] ram = savevm(image, machine + ',max-ram-below-4g=32M', 40 * M)
        def options = new MemoryOptions(null, null, 32 * M)
        Path raw = dir.resolve('split.raw'), lime = dir.resolve('split.lime'), elf = dir.resolve('split.elf')

        when:
        Qcow2Image.open(image).withCloseable { img ->
            def st = VmState.of(img, img.findSnapshot('s1').get())
            st.export(raw, VmStateFormat.RAW, options)
            st.export(lime, VmStateFormat.LIME, options)
            st.export(elf, VmStateFormat.ELF, options)
        }

        then: 'raw: sparse, 4 GiB + 32 MiB long'
        Files.size(raw) == 4 * G + 32 * M
        Arrays.equals(read(raw, 0, 32 * M), Arrays.copyOfRange(ram, 0, (int) (32 * M)))
        Arrays.equals(read(raw, 4 * G, 32 * M), Arrays.copyOfRange(ram, (int) (32 * M), (int) (64 * M)))
        read(raw, 4 * G + 8 * M, 1)[0] == (byte) 0x5c   // the page written at RAM offset 40 MiB
        Arrays.equals(read(raw, 32 * M, 4096), new byte[4096])
        dev.qcow2.storage.AllocatedBytes.statBlocks(raw) in 1..<(8 * M) // holes, not 4 GiB of zeros

        and: 'LiME: two segments with inclusive ends'
        def l = ByteBuffer.wrap(read(lime, 0, 32)).order(ByteOrder.LITTLE_ENDIAN)
        def l2 = ByteBuffer.wrap(read(lime, 32 + 32 * M, 32)).order(ByteOrder.LITTLE_ENDIAN)
        l.getInt(0) == 0x4C694D45 && l.getLong(8) == 0 && l.getLong(16) == 32 * M - 1
        l2.getInt(0) == 0x4C694D45 && l2.getInt(4) == 1 && l2.getLong(8) == 4 * G && l2.getLong(16) == 4 * G + 32 * M - 1
        Files.size(lime) == 2 * 32 + 64 * M
        Arrays.equals(read(lime, 64 + 32 * M, 32 * M), Arrays.copyOfRange(ram, (int) (32 * M), (int) (64 * M)))

        and: 'ELF: two PT_LOAD headers at guest-physical 0 and 4 GiB'
        def e = ByteBuffer.wrap(read(elf, 0, 64 + 2 * 56)).order(ByteOrder.LITTLE_ENDIAN)
        e.getShort(56) == 2
        e.getLong(64 + 24) == 0 && e.getLong(64 + 32) == 32 * M
        e.getLong(64 + 56 + 24) == 4 * G && e.getLong(64 + 56 + 32) == 32 * M
        Arrays.equals(read(elf, e.getLong(64 + 56 + 8), 32 * M), Arrays.copyOfRange(ram, (int) (32 * M), (int) (64 * M)))

        where:
        machine << ['pc', 'q35']
    }

    def "without --ram-below-4g the split guest's raw is flat (the option is not in the stream)"() {
        given:
        Path image = Qemu.create(dir.resolve('split.qcow2'), '64M')
        byte[] ram = savevm(image, 'pc,max-ram-below-4g=32M')
        Path raw = dir.resolve('flat.raw')

        when:
        Qcow2Image.open(image).withCloseable { img ->
            VmState.of(img, img.findSnapshot('s1').get()).export(raw, VmStateFormat.RAW, MemoryOptions.defaults())
        }

        then:
        Arrays.equals(Files.readAllBytes(raw), ram)
    }

    def "a q35 guest of 3 GiB: 2 GiB below 4 GiB and 1 GiB from 4 GiB, from the machine type alone"() {
        given: 'a sparse 3 GiB RAM file with marks on both sides of the split'
        Path image = Qemu.create(dir.resolve('big.qcow2'), '64M')
        Path ramFile = dir.resolve('ram3g.bin')
        new RandomAccessFile(ramFile.toFile(), 'rw').withCloseable { f ->
            f.setLength(3 * G)
            f.seek(2 * G - 8); f.write('BELOW-2G'.bytes)
            f.seek(2 * G + 4096); f.write('ABOVE-4G'.bytes)
        }
        QemuSystem guest = QemuSystem.start(image, ramFile, 'q35', 3072)
        try { guest.savevm('s1') } finally { guest.close() }
        Path raw = dir.resolve('big.raw')

        when:
        def layout = Qcow2Image.open(image).withCloseable { img ->
            VmState.of(img, img.findSnapshot('s1').get()).export(raw, VmStateFormat.RAW, MemoryOptions.defaults())
        }

        then:
        layout.ranges() == [new RamRange(0, 0, 2 * G), new RamRange(2 * G, 4 * G, 1 * G)]
        Files.size(raw) == 5 * G
        new String(read(raw, 2 * G - 8, 8), 'US-ASCII') == 'BELOW-2G'
        new String(read(raw, 4 * G + 4096, 8), 'US-ASCII') == 'ABOVE-4G'
        Arrays.equals(read(raw, 2 * G, 4096), new byte[4096])   // the PCI hole holds nothing
    }

    private static byte[] read(Path f, long at, long n) {
        FileChannel.open(f).withCloseable { ch ->
            def b = ByteBuffer.allocate((int) n)
            while (b.hasRemaining()) { if (ch.read(b, at + b.position()) < 0) break }
            b.array()
        }
    }
}
