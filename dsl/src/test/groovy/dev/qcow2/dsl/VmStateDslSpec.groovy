package dev.qcow2.dsl

import dev.qcow2.testing.Qemu
import dev.qcow2.testing.QemuSystem
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/** {@code snapshot('s1').vmstate} on a snapshot qemu-system-x86_64 7.2 took with savevm. */
class VmStateDslSpec extends Specification {
    @Shared @TempDir Path shared
    @Shared Path image
    @Shared byte[] ram
    @TempDir Path dir
    DslShell shell

    def setupSpec() {
        image = Qemu.create(shared.resolve('vm.qcow2'), '100M')
        def guest = QemuSystem.start(image, shared.resolve('ram.bin'), 'pc', 64, 'hello from the guest RAM'.bytes, 0x123450)
        try {
            guest.savevm('s1')
            ram = guest.ramBytes()
        } finally {
            guest.close()
        }
        Qemu.img('snapshot', '-c', 'disk', image.toString())
    }

    def setup() {
        shell = new DslShell()
        shell.evaluate("open '$image'")
    }

    def cleanup() { shell?.close() }

    def "vmstate is the summary record, fields as properties"() {
        when:
        def v = shell.evaluate("snapshot('s1').vmstate")

        then:
        v instanceof Record
        v.type == 'vmstate'
        v.machine_type == 'pc-i440fx-7.2'
        v.main_ram == 'pc.ram'
        v.cpu_count == 1
        v.cpus[0].cr0 == 0x60000010
        v.toString().contains('machine_type:    pc-i440fx-7.2')
        v.toJson().contains('"type" : "vmstate"')
    }

    def "ram.read is a hexdump at a guest-physical address; ram.find finds the text"() {
        when:
        Hexdump h = shell.evaluate("snapshot('s1').vmstate.ram.read(0x123450, 24)")
        Table t = shell.evaluate("snapshot('s1').vmstate.ram.find('from the guest')")

        then:
        h.asText() == 'hello from the guest RAM'
        h.offset == 0x123450
        h.toString().contains('hello from the g')
        t.size() == 1
        t[0].gpa == 0x123450 + 6
    }

    def "export writes a memory image; an existing file needs overwrite: true"() {
        given:
        Path out = dir.resolve('mem.lime')

        when:
        Record r = shell.evaluate("snapshot('s1').vmstate.export(to: '${out}', format: 'lime')")
        byte[] lime = Files.readAllBytes(out)

        then:
        r.file_length == 32 + ram.length
        r.block == 'pc.ram'
        Arrays.equals(Arrays.copyOfRange(lime, 32, lime.length), ram)

        when:
        shell.evaluate("snapshot('s1').vmstate.export(to: '${out}', format: 'raw')")

        then:
        def e = thrown(DslException)
        e.message == "export: $out exists; use overwrite: true to replace it"

        when:
        shell.evaluate("snapshot('s1').vmstate.export(to: '${out}', format: 'raw', overwrite: true)")

        then:
        Arrays.equals(Files.readAllBytes(out), ram)
    }

    def "one-line errors: #what"() {
        when:
        shell.evaluate(code)

        then:
        def e = thrown(DslException)
        e.message.endsWith(message)

        where:
        what             | code                                                          | message
        'disk-only'      | "snapshot('disk').vmstate"                                    | "snapshot 'disk': no VM state: a disk-only snapshot (qemu-img snapshot -c, or savevm of a VM without RAM) stores only the disk"
        'active state'   | 'active.vmstate'                                              | "vmstate: the active state has no VM state; use snapshot('name').vmstate"
        'bad format'     | "snapshot('s1').vmstate.export(to: 'x', format: 'vmdk')"      | "export: unknown format 'vmdk' (expected stream, raw, lime or elf)"
        'read past end'  | "snapshot('s1').vmstate.ram.read(64.MiB - 8, 16)"             | 'ram.read: 0x3fffff8+16 is past the end of the RAM (67108864 bytes)'
        'odd ramBelow4g' | "snapshot('s1').vmstate.ram(ramBelow4g: 1000)"               | 'ram: ramBelow4g: must be a positive multiple of 4 KiB'
        'unknown option' | "snapshot('s1').vmstate.export(to: 'x', fmt: 'raw')"          | 'export: unknown option fmt; known: to, format, block, machine, ramBelow4g, overwrite'
    }
}
