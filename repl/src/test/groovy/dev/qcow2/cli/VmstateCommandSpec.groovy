package dev.qcow2.cli

import dev.qcow2.testing.EncryptedImages
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.QemuSystem
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** {@code qcow2 vmstate} on a snapshot qemu-system-x86_64 7.2 took with savevm (one guest for the class). */
class VmstateCommandSpec extends Specification {
    @Shared @TempDir Path shared
    @Shared Path image
    @Shared byte[] ram
    @Shared Map<String, Long> blocks
    @TempDir Path dir

    def setupSpec() {
        image = Qemu.create(shared.resolve('vm.qcow2'), '100M')
        byte[] pattern = new byte[20000]
        new Random(4).nextBytes(pattern)
        def guest = QemuSystem.start(image, shared.resolve('ram.bin'), 'q35', 64, pattern, 0x300000)
        try {
            guest.savevm('s1')
            ram = guest.ramBytes()
            blocks = guest.ramBlocks()
        } finally {
            guest.close()
        }
        Qemu.img('snapshot', '-c', 'disk-only', image.toString())
    }

    def "--output=json: the summary record"() {
        when:
        def r = Cli.run('vmstate', '-l', 's1', '--output=json', image)
        def j = r.json()

        then:
        r.exit == 0 && r.err == ''
        j.type == 'vmstate'
        j.snapshot == 's1'
        j.machine_type.startsWith('pc-q35-')
        j.page_size == 4096
        j.main_ram == 'pc.ram'
        j.ram_size == 64 << 20
        j.ram_blocks.collectEntries { [it.name, it.size] } == blocks
        j.ram_ranges.size() == 1 && j.ram_ranges[0].guest_physical == 0
        j.sections*.name.contains('cpu')
        j.sections[0].name == 'ram'
        j.cpu_count == 1
        j.cpus[0].cr0 == 0x60000010
        j.cpus[0].rip == 0xfff0
        j.incomplete == null
    }

    def "one view: the DSL's snapshot('s1').vmstate gives the same JSON and text as the command"() {
        given:
        def shell = new dev.qcow2.dsl.DslShell()
        shell.evaluate("open '$image'")

        when:
        def record = shell.evaluate("snapshot('s1').vmstate")
        def cliJson = Cli.run('vmstate', '-l', 's1', '--output=json', image).json()
        def cliText = Cli.run('vmstate', '-l', 's1', image).out

        then:
        new groovy.json.JsonSlurper().parseText(record.toJson()) == cliJson
        record.toString() == cliText

        cleanup:
        shell?.close()
    }

    def "human output: one field a line, tables for blocks, sections and CPUs"() {
        when:
        def r = Cli.run('vmstate', '--snapshot', '1', image)

        then:
        r.exit == 0
        r.out.readLines()[0] == 'snapshot:        s1'
        r.out.contains('machine_type:    pc-q35-7.2')
        r.out.contains('ram_size:        67108864 (64 MiB)')
        r.out =~ /(?m)^  pc\.ram +67108864 /
        r.out =~ /(?m)^  0 +0x0 +0x60000010 +0x0 +0xfff0 +0x0$/
    }

    def "--format=#format writes #what"() {
        given:
        Path out = dir.resolve('mem.out')

        when:
        def r = Cli.run(['vmstate', '-l', 's1', "--format=$format", image, out])
        byte[] written = Files.readAllBytes(out)

        then:
        r.exit == 0 && r.out == '' && r.err == ''
        check(written)

        where:
        format   | what                              | check
        'raw'    | 'the RAM file byte for byte'      | { byte[] b -> Arrays.equals(b, ram) }
        'stream' | 'the stored stream'               | { byte[] b -> new String(b, 0, 4, 'US-ASCII') == 'QEVM' && b[b.length - 1] == (byte) '}' }
        'lime'   | 'one LiME segment and the RAM'    | { byte[] b -> b.length == 32 + ram.length && Arrays.equals(Arrays.copyOfRange(b, 32, b.length), ram) }
        'elf'    | 'an ELF core'                     | { byte[] b -> new String(b, 1, 3, 'US-ASCII') == 'ELF' && Arrays.equals(Arrays.copyOfRange(b, 4096, b.length), ram) }
    }

    def "--block=pc.bios writes that block flat"() {
        given:
        Path out = dir.resolve('bios.bin')

        expect:
        Cli.run('vmstate', '-l', 's1', '--block=pc.bios', image, out).exit == 0
        Files.size(out) == blocks['pc.bios']
    }

    def "errors are one line: #what"() {
        when:
        def r = Cli.run(['vmstate'] + args.collect { it == 'IMG' ? image.toString() : it == 'OUT' ? dir.resolve('o').toString() : it })

        then:
        r.exit == 1
        r.out == ''
        r.err.readLines().size() == (usage ? 2 : 1)
        r.err.readLines()[0] == message.replace('IMG', image.toString())

        where:
        what               | args                                              | usage | message
        'disk-only'        | ['-l', 'disk-only', 'IMG', 'OUT']                 | false | "qcow2: IMG: snapshot 'disk-only': no VM state: a disk-only snapshot (qemu-img snapshot -c, or savevm of a VM without RAM) stores only the disk"
        'no such snapshot' | ['-l', 'nope', 'IMG']                             | false | "qcow2: IMG: snapshot 'nope' not found"
        'unknown format'   | ['-l', 's1', '--format=vmdk', 'IMG', 'OUT']       | false | "qcow2: vmstate: unknown format 'vmdk' (expected stream, raw, lime or elf)"
        'unknown machine'  | ['-l', 's1', '--machine=arm', 'IMG', 'OUT']       | false | "qcow2: vmstate: unknown machine 'arm' (expected pc or q35)"
        'unknown block'    | ['-l', 's1', '--block=vga.vram', 'IMG', 'OUT']    | false | "qcow2: IMG: snapshot 's1': VM state at stream offset 0x28: no RAM block 'vga.vram' (the stream has pc.ram, /rom@etc/acpi/tables, pc.bios, pc.rom, /rom@etc/table-loader, /rom@etc/acpi/rsdp)"
        'odd ram-below-4g' | ['-l', 's1', '--ram-below-4g=1000', 'IMG', 'OUT'] | false | 'qcow2: vmstate: --ram-below-4g must be a positive multiple of 4 KiB'
        'no snapshot'      | ['IMG']                                           | true  | "qcow2: Missing required option: '--snapshot=SNAPSHOT'"
    }

    def "an encrypted image (#kind): --object secret + --image-opts decrypt the state; without them, qemu's one line"() {
        given: 'the stored stream of s1, kept by QEMU in an encrypted image'
        Path streamFile = dir.resolve('s1.stream')
        assert Cli.run(['vmstate', '-l', 's1', '--format=stream', image, streamFile]).exit == 0
        def enc = EncryptedImages.create(dir.resolve('enc.qcow2'), '100M', kind, 'vm-pass', null, 'sec0')
        EncryptedImages.storeVmState(enc, 'vm-pass', Files.readAllBytes(streamFile), 'saved', 'sec0')
        Path out = dir.resolve('mem.raw')

        when:
        def r = Cli.run(['vmstate', '-l', 'saved', '--object', 'secret,id=sec0,data=vm-pass', '--image-opts',
                         "driver=qcow2,file.filename=$enc,encrypt.key-secret=sec0".toString(), out.toString()])

        then:
        r.exit == 0 && r.err == ''
        Arrays.equals(Files.readAllBytes(out), ram)

        when:
        def locked = Cli.run(['vmstate', '-l', 'saved', enc.toString(), dir.resolve('x.raw').toString()])

        then:
        locked.exit == 1
        locked.err.trim() == "qcow2: $enc: Parameter 'encrypt.key-secret' is required for cipher"
        !Files.exists(dir.resolve('x.raw'))
        !(r.out + r.err + locked.out + locked.err).contains('vm-pass')

        where:
        kind << ['luks', 'aes']
    }
}
