package dev.qcow2.dsl

import dev.qcow2.image.Qcow2Image
import dev.qcow2.view.VmStateViews
import dev.qcow2.vmstate.Machine
import dev.qcow2.vmstate.MemoryLayout
import dev.qcow2.vmstate.MemoryOptions
import dev.qcow2.vmstate.VmState
import dev.qcow2.vmstate.VmStateException
import dev.qcow2.vmstate.VmStateFormat

import java.nio.file.Files
import java.nio.file.Path

import static dev.qcow2.dsl.Column.Unit.BYTES

/**
 * {@code snapshot('s1').vmstate}: the VM state a savevm snapshot stores, shown as its summary
 * record (the core's {@link VmStateViews}, as {@code qcow2 vmstate --output=json}); {@code .ram}
 * is the guest's main RAM at guest-physical addresses ({@code .ram.read(0x100000, 64)},
 * {@code .ram.find('text')}); {@code .export(to: 'mem.lime', format: 'lime')} writes a memory image.
 */
class VmStateRecord extends Record {
    private final View view
    private GuestRam ram

    private VmStateRecord(Record r, View view) {
        super(r.title, r.fields, r.units, r.type)
        this.view = view
    }

    /** The summary of {@code view}'s snapshot (the active state has no VM state). */
    static VmStateRecord of(View view) {
        if (view.active) throw new DslException('vmstate: the active state has no VM state; use snapshot(\'name\').vmstate')
        Guard.run {
            VmState st = state(view)
            MemoryLayout layout
            try {
                layout = st.layout(MemoryOptions.defaults())
            } catch (VmStateException ignored) {
                layout = null // a machine type without a known layout: the summary shows the rest
            }
            new VmStateRecord(from(VmStateViews.summary("${view.session.image().path()?.fileName}@${view.snapshotName}", st, layout)), view)
        }
    }

    private static VmState state(View view) {
        Qcow2Image img = view.session.image()
        VmState.of(img, view.entry())
    }

    /** The main RAM at guest-physical addresses (indexed on first use: one read of the stream). */
    GuestRam getRam() {
        if (ram == null) ram = ram([:])
        ram
    }

    /** {@code vmstate.ram(block: 'pc.bios')}, {@code ram(machine: 'q35', ramBelow4g: 32.MiB)}: another block or layout. */
    GuestRam ram(Map options) {
        Options.check(options, 'ram', ['block', 'machine', 'ramBelow4g'])
        MemoryOptions mo = memoryOptions(options, 'ram')
        Guard.run { new GuestRam(state(view).memory(mo), view.snapshotName) }
    }

    /**
     * {@code export(to: 'mem.lime', format: 'lime')}: format raw (default), lime, elf or stream;
     * {@code block:}, {@code machine:}, {@code ramBelow4g:} as the CLI's; an existing file is
     * refused unless {@code overwrite: true}.
     */
    Record export(Map options) {
        Options.check(options, 'export', ['to', 'format', 'block', 'machine', 'ramBelow4g', 'overwrite'])
        if (options.to == null) throw new DslException("export: to: names the file to write, e.g. export(to: 'mem.raw')")
        Path out = options.to instanceof Path ? (Path) options.to : Path.of(options.to.toString())
        VmStateFormat format
        try {
            format = VmStateFormat.parse((options.format ?: 'raw').toString())
        } catch (IllegalArgumentException e) {
            throw new DslException("export: ${e.message}")
        }
        MemoryOptions mo = memoryOptions(options, 'export')
        if (Files.exists(out) && !(options.overwrite as boolean)) throw new DslException("export: $out exists; use overwrite: true to replace it")
        if (Files.isDirectory(out)) throw new DslException("export: $out is a directory")
        Guard.run {
            MemoryLayout layout = state(view).export(out, format, mo)
            def f = [file: out.toString(), format: format.cliName(), snapshot: view.snapshotName,
                     block: layout?.block(), file_length: Files.size(out)]
            new Record("VM state export to ${out.fileName}", f, [file_length: BYTES], 'vmstate-export')
        }
    }

    private static MemoryOptions memoryOptions(Map options, String command) {
        Machine machine = null
        if (options.machine != null) {
            try {
                machine = Machine.parse(options.machine.toString())
            } catch (IllegalArgumentException e) {
                throw new DslException("$command: ${e.message}")
            }
        }
        Long below = options.ramBelow4g == null ? null : Sizes.parse(options.ramBelow4g, 'ramBelow4g')
        if (below != null && (below <= 0 || below % 4096 != 0)) throw new DslException("$command: ramBelow4g: must be a positive multiple of 4 KiB")
        new MemoryOptions(options.block?.toString(), machine, below)
    }
}
