package dev.qcow2.vmstate

import dev.qcow2.image.Qcow2Image
import dev.qcow2.mapping.Extent
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.QemuSystem
import dev.qcow2.units.GuestOffset
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption

/**
 * The VM state of snapshots that qemu-system-x86_64 7.2 itself took with savevm, against the
 * guest RAM it saved (a file-backed pc.ram), its `info ramblock`, and its CPU reset state.
 * One guest makes the shared image (two snapshots with different memory, then a disk-only one).
 */
class VmStateSpec extends Specification {
    static final long M = 1L << 20, G = 1L << 30

    @Shared @TempDir Path shared
    @Shared Path image
    @Shared byte[] ram1, ram2
    @Shared Map<String, Long> ramBlocks
    @Shared byte[] pattern = new byte[64 * 1024]

    @TempDir Path dir

    def setupSpec() {
        new Random(13).nextBytes(pattern)
        image = Qemu.create(shared.resolve('vm.qcow2'), '100M')
        Qemu.io(image, 'write -P 0x5a 0 1M')
        def guest = QemuSystem.start(image, shared.resolve('ram.bin'), 'pc', 64, pattern, 0x100000)
        try {
            guest.savevm('s1')
            ram1 = guest.ramBytes()
            ramBlocks = guest.ramBlocks()
            byte[] page = new byte[8192]
            Arrays.fill(page, (byte) 0xab)
            guest.poke(0x200000, page)             // two new data pages
            guest.poke(0x100000, new byte[4096])   // a pattern page back to zeros
            byte[] tail = new byte[4096]
            new Random(7).nextBytes(tail)
            guest.poke(64 * M - 4096, tail)        // the last page of RAM
            guest.savevm('s2')
            ram2 = guest.ramBytes()
        } finally {
            guest.close()
        }
        Qemu.img('snapshot', '-c', 'diskonly', image.toString())
    }

    private static VmState state(Qcow2Image img, String name) { VmState.of(img, img.findSnapshot(name).get()) }

    private Path export(Path img, String snapshot, VmStateFormat format, MemoryOptions options = MemoryOptions.defaults()) {
        Path out = dir.resolve("${snapshot}.${format.cliName()}")
        Qcow2Image.open(img).withCloseable { state(it, snapshot).export(out, format, options) }
        out
    }

    def "raw of pc.ram is the guest's RAM file byte for byte, for each snapshot"() {
        when:
        Path raw = export(image, snapshot, VmStateFormat.RAW)

        then:
        Files.size(raw) == 64 * M
        Arrays.equals(Files.readAllBytes(raw), expected())

        where:
        snapshot | expected
        's1'     | { ram1 }
        's2'     | { ram2 }
    }

    def "the two snapshots differ where the RAM was written between them"() {
        expect:
        !Arrays.equals(ram1, ram2)
        Arrays.equals(Arrays.copyOfRange(ram1, 0x100000, 0x101000), Arrays.copyOf(pattern, 4096))
        Arrays.equals(Arrays.copyOfRange(ram2, 0x100000, 0x101000), new byte[4096])
        ram2[0x200000] == (byte) 0xab
    }

    def "the summary: machine type, the block list of info ramblock, page counts, sections, the CPU's reset registers"() {
        when:
        def s = Qcow2Image.open(image).withCloseable { state(it, 's1').summary() }

        then:
        s.machineType() == 'pc-i440fx-7.2'
        s.pageSize() == 4096
        s.ramBlocks().collectEntries { [it.name(), it.usedLength()] } == ramBlocks
        s.mainRam()*.name() == ['pc.ram']
        // the 16 pages of the pattern are the only non-zero pages of pc.ram; every page is sent once
        s.block('pc.ram').get().dataPages() == 16
        s.block('pc.ram').get().dataPages() + s.block('pc.ram').get().zeroPages() == 64 * M / 4096
        s.sections()[0].name() == 'ram' && s.sections()[0].kind() == 'iterable'
        s.sections()*.name().containsAll(['timer', 'cpu_common', 'cpu', 'apic', 'mc146818rtc', '0000:00:01.1/ide'])
        s.incomplete() == null
        s.cpus().size() == 1
        // x86 reset state (a guest stopped with -S never ran): CR0 = 0x60000010, CS:IP = f000:fff0
        s.cpus()[0].cr0() == 0x60000010L
        s.cpus()[0].cr3() == 0
        s.cpus()[0].cr4() == 0
        s.cpus()[0].rip() == 0xfff0L
        s.cpus()[0].rsp() == 0
    }

    def "the stream format is the stored bytes: QEVM, vm_state_size long, ending with the VMDESCRIPTION JSON"() {
        when:
        Path out = export(image, 's1', VmStateFormat.STREAM)
        byte[] b = Files.readAllBytes(out)
        long size = Qcow2Image.open(image).withCloseable { it.findSnapshot('s1').get().vmStateSize() }
        String text = new String(b, 'ISO-8859-1')

        then:
        b.length == size
        new String(b, 0, 4, 'US-ASCII') == 'QEVM'
        ByteBuffer.wrap(b, 4, 4).int == 3
        text.endsWith('}')
        text.substring(text.lastIndexOf('{"page_size"') - 5).charAt(0) == (char) 0x06
    }

    def "LiME and ELF hold the RAM in one segment at guest-physical 0"() {
        when:
        byte[] lime = Files.readAllBytes(export(image, 's2', VmStateFormat.LIME))
        byte[] elf = Files.readAllBytes(export(image, 's2', VmStateFormat.ELF))
        def lh = ByteBuffer.wrap(lime).order(ByteOrder.LITTLE_ENDIAN)
        def eh = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN)
        long phoff = eh.getLong(32)
        long offset = eh.getLong((int) phoff + 8)

        then:
        lh.getInt(0) == 0x4C694D45 && lh.getInt(4) == 1 && lh.getLong(8) == 0 && lh.getLong(16) == 64 * M - 1
        lime.length == 32 + 64 * M
        Arrays.equals(Arrays.copyOfRange(lime, 32, lime.length), ram2)
        new String(elf, 1, 3, 'US-ASCII') == 'ELF' && eh.getShort(16) == 4 && eh.getShort(18) == 62
        eh.getShort(56) == 1                                // one PT_LOAD
        eh.getInt((int) phoff) == 1
        eh.getLong((int) phoff + 24) == 0                   // p_paddr
        eh.getLong((int) phoff + 32) == 64 * M              // p_filesz
        Arrays.equals(Arrays.copyOfRange(elf, (int) offset, (int) (offset + 64 * M)), ram2)
    }

    def "another RAM block by name: pc.bios flat, as the guest's BIOS image"() {
        when:
        Path raw = export(image, 's1', VmStateFormat.RAW, new MemoryOptions('pc.bios', null, null))
        byte[] bios = Files.readAllBytes(raw)

        then:
        bios.length == ramBlocks['pc.bios']
        // SeaBIOS ends with the reset vector's far jump (0xea) 16 bytes before its end
        bios[bios.length - 16] == (byte) 0xea
    }

    def "an unknown block name fails with the blocks the stream has"() {
        when:
        export(image, 's1', VmStateFormat.RAW, new MemoryOptions('nope', null, null))

        then:
        def e = thrown(VmStateException)
        e.message.contains("no RAM block 'nope'")
        e.message.contains('pc.ram, /rom@etc/acpi/tables')
        !e.message.contains('\n')
    }

    def "guest memory: reads at guest-physical addresses, and finds a byte string"() {
        when:
        def mem = Qcow2Image.open(image).withCloseable { img ->
            def m = state(img, 's2').memory(MemoryOptions.defaults())
            byte[] at = new byte[64]
            m.read(0x101000 - 32, at, 0, 64)
            byte[] abs = new byte[32]
            Arrays.fill(abs, (byte) 0xab)
            [m.size(), at, m.find(Arrays.copyOfRange(pattern, 5000, 5016), 0), m.find(abs, 0),
             m.find(abs, 0x201ff0), m.find('no such bytes here'.bytes, 0)]
        }
        byte[] read = mem[1] as byte[]

        then:
        mem[0] == 64 * M
        // the first pattern page was zeroed before s2; the second is still there
        Arrays.equals(Arrays.copyOfRange(read, 0, 32), new byte[32])
        Arrays.equals(Arrays.copyOfRange(read, 32, 64), Arrays.copyOfRange(pattern, 4096, 4128))
        mem[2] == 0x100000 + 5000
        mem[3] == 0x200000
        mem[4] == -1
        mem[5] == -1
    }

    def "a disk-only snapshot is refused in one line"() {
        when:
        Qcow2Image.open(image).withCloseable { state(it, 'diskonly') }

        then:
        def e = thrown(VmStateException)
        e.message == "${image}: snapshot 'diskonly': no VM state: a disk-only snapshot (qemu-img snapshot -c, or savevm of a VM without RAM) stores only the disk"
    }

    def "an image grown after savevm finds the state by the snapshot's own disk size"() {
        given:
        Path grown = dir.resolve('grown.qcow2')
        Files.copy(image, grown)
        Qemu.img('resize', grown.toString(), '+1G')

        when:
        Path raw = export(grown, 's2', VmStateFormat.RAW)
        def loc = Qcow2Image.open(grown).withCloseable { img -> state(img, 's2').location() }

        then:
        loc.offset().value() == 512 * M
        Arrays.equals(Files.readAllBytes(raw), ram2)
    }

    /** The host offset of stream byte {@code at} of snapshot {@code name}. */
    private static long hostOffset(Path img, String name, long at) {
        Qcow2Image.open(img).withCloseable { i ->
            def s = i.findSnapshot(name).get()
            def loc = VmStateLocation.of(s, i.geometry())
            def e = i.vmStateReader(s).mapper().extent(new GuestOffset(loc.offset().value() + at), 1)
            assert e instanceof Extent.Data
            ((Extent.Data) e).hostOffset().value()
        }
    }

    def "a damaged stream fails in one line naming the stream offset: #what"() {
        given:
        Path bad = dir.resolve('bad.qcow2')
        Files.copy(image, bad, StandardCopyOption.REPLACE_EXISTING)
        new RandomAccessFile(bad.toFile(), 'rw').withCloseable { f ->
            f.seek(hostOffset(bad, 's1', at))
            f.write(bytes as byte[])
        }

        when:
        Qcow2Image.open(bad).withCloseable { state(it, 's1').summary() }

        then:
        def e = thrown(VmStateException)
        e.message.startsWith("${bad}: snapshot 's1': VM state at stream offset 0x${Long.toHexString(at)}: ")
        e.message.endsWith(message)
        !e.message.contains('\n')

        where:
        what                       | at | bytes                | message
        'magic'                    | 0  | [0x51, 0x45, 0x56, 0x4e] | "not a QEMU migration stream (magic 0x5145564e, expected 0x5145564d 'QEVM')"
        'version'                  | 4  | [0, 0, 0, 2]         | 'migration stream version 2 (only version 3 is decoded)'
        'unknown section type'     | 26 | [0x55]               | 'unknown section type 0x55'
        'ram section version'      | 26 | [0x01, 0, 0, 0, 2, 3, 0x72, 0x61, 0x6d, 0, 0, 0, 0, 0, 0, 0, 5] | 'ram section version 5 (only version 4 is decoded)'
    }

    def "a stream cut short (vm_state_size too small) fails at the offset where bytes are missing"() {
        given:
        Path bad = dir.resolve('short.qcow2')
        Files.copy(image, bad, StandardCopyOption.REPLACE_EXISTING)
        long entry = Qcow2Image.open(bad).withCloseable { it.findSnapshot('s1').get().entryOffset() }
        new RandomAccessFile(bad.toFile(), 'rw').withCloseable { f ->
            f.seek(entry + 32); f.writeInt(100000)    // the 32-bit vm_state_size
            f.seek(entry + 40); f.writeLong(100000)   // the 64-bit one in the extra data, which wins
        }

        when:
        Qcow2Image.open(bad).withCloseable { state(it, 's1').summary() }

        then:
        def e = thrown(VmStateException)
        e.message =~ /VM state at stream offset 0x1[0-9a-f]{4}: stream truncated: \d+ more bytes needed, \d+ left$/
    }

    def "pages from capabilities that are not decoded fail in one line: #flagName"() {
        given: 'the first page word of the first PART section rewritten with that flag'
        Path bad = dir.resolve('flags.qcow2')
        Files.copy(image, bad, StandardCopyOption.REPLACE_EXISTING)
        long word = firstPageWord(bad)
        long host = hostOffset(bad, 's1', word)
        new RandomAccessFile(bad.toFile(), 'rw').withCloseable { f ->
            f.seek(host); long w = f.readLong()
            f.seek(host); f.writeLong((w & ~0xfffL) | flag)
        }

        when:
        Qcow2Image.open(bad).withCloseable { state(it, 's1').summary() }

        then:
        def e = thrown(VmStateException)
        e.message.contains("VM state at stream offset 0x${Long.toHexString(word)}: $message")

        where:
        flagName        | flag  | message
        'COMPRESS_PAGE' | 0x100 | "compressed page (migration capability 'compress') is not decoded"
        'XBZRLE'        | 0x40  | "XBZRLE page (migration capability 'xbzrle') is not decoded"
        'HOOK'          | 0x80  | 'RAM hook (RDMA migration) is not decoded'
    }

    /** A copy of the image with {@code bytes} written over stream bytes at {@code at} of snapshot s1. */
    private Path damaged(String name, long at, byte[] bytes) {
        Path bad = dir.resolve(name)
        Files.copy(image, bad, StandardCopyOption.REPLACE_EXISTING)
        long host = hostOffset(bad, 's1', at)
        new RandomAccessFile(bad.toFile(), 'rw').withCloseable { f -> f.seek(host); f.write(bytes) }
        bad
    }

    private static byte[] be64(long v) { ByteBuffer.allocate(8).putLong(v).array() }

    def "an export of a stream that fails to decode leaves no file behind"() {
        given:
        Path bad = damaged('magic.qcow2', 0, [0x00] as byte[])
        Path out = dir.resolve('never.raw')

        when:
        Qcow2Image.open(bad).withCloseable { state(it, 's1').export(out, VmStateFormat.RAW, MemoryOptions.defaults()) }

        then:
        thrown(VmStateException)
        !Files.exists(out)
    }

    def "a page past the end of its block fails in one line"() {
        given:
        long word = firstPageWord(image)
        long original = Qcow2Image.open(image).withCloseable { i ->
            byte[] b = new byte[8]; state(i, 's1').bytes().read(word, b, 0, 8); ByteBuffer.wrap(b).long
        }
        Path bad = damaged('past.qcow2', word, be64(0x40000000L | (original & 0xfffL)))

        when:
        Qcow2Image.open(bad).withCloseable { state(it, 's1').summary() }

        then:
        def e = thrown(VmStateException)
        e.message =~ /VM state at stream offset 0x${Long.toHexString(word)}: page at 0x40000000 past the end of RAM block '[^']+' \(0x[0-9a-f]+ bytes\)$/
    }

    def "a RAM block list that does not add up fails in one line"() {
        given: 'the MEM_SIZE word (after the configuration and the ram START header) 12 KiB short: pc.rom no longer fits'
        long at = 8 + 1 + 4 + 'pc-i440fx-7.2'.length() + 1 + 4 + 4 + 4 + 4
        long total = ramBlocks.values().sum() as long
        Path bad = damaged('sum.qcow2', at, be64((total - 0x3000) | 0x04))

        when:
        Qcow2Image.open(bad).withCloseable { state(it, 's1').summary() }

        then:
        def e = thrown(VmStateException)
        e.message.endsWith("VM state at stream offset 0x${Long.toHexString(at + 8 + 1 + 'pc.ram'.length() + 8 + 1 + '/rom@etc/acpi/tables'.length() + 8 + 1 + 'pc.bios'.length() + 8)}: "
                + "RAM block list does not add up: block 'pc.rom' of 0x20000 bytes with 0x1f000 of the total 0x${Long.toHexString(total - 0x3000)} left")
    }

    def "without the VMDESCRIPTION the device sections are not walked, but RAM is complete"() {
        given:
        long desc = Qcow2Image.open(image).withCloseable { VmDescription.find(state(it, 's1').bytes()).get().streamOffset() }
        Path bad = damaged('nodesc.qcow2', desc, [0x07] as byte[])
        Path raw = dir.resolve('nodesc.raw')

        when:
        def s = Qcow2Image.open(bad).withCloseable { i ->
            def st = state(i, 's1')
            st.export(raw, VmStateFormat.RAW, MemoryOptions.defaults())
            st.summary()
        }

        then:
        s.incomplete() ==~ /stream offset 0x[0-9a-f]+: device section 'timer' cannot be walked: the stream has no VMDESCRIPTION/
        s.sections()*.name() == ['ram', 'timer']
        s.cpus().isEmpty()
        Arrays.equals(Files.readAllBytes(raw), ram1)
    }

    /** The stream offset of the first page word after the ram START section (the first PART's body). */
    private static long firstPageWord(Path img) {
        Qcow2Image.open(img).withCloseable { i ->
            def st = state(i, 's1')
            long[] found = [-1]
            MigrationStream.read(st.bytes(), new MigrationStream.RamSink() {
                void page(String b, long o, byte[] p, long at) { }
                void zero(String b, long o, int fill, long at) { if (found[0] < 0) found[0] = at }
            })
            found[0]
        }
    }
}
