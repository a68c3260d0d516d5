package dev.qcow2.cli;

import com.fasterxml.jackson.databind.SerializationFeature;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.view.JsonShape;
import dev.qcow2.view.TextRender;
import dev.qcow2.view.VmStateViews;
import dev.qcow2.vmstate.Machine;
import dev.qcow2.vmstate.MemoryLayout;
import dev.qcow2.vmstate.MemoryOptions;
import dev.qcow2.vmstate.VmState;
import dev.qcow2.vmstate.VmStateException;
import dev.qcow2.vmstate.VmStateFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code qcow2 vmstate}: the VM state an internal snapshot taken by {@code savevm} stores (guest
 * RAM, CPU and device state). With OUT: writes the stream as stored, or a memory image of one RAM
 * block (raw, LiME, ELF core). Without: prints what the state holds.
 */
@Command(name = "vmstate", addMethodSubcommands = false, mixinStandardHelpOptions = true,
        description = {"Extract the VM state (guest memory, CPU registers) of an internal snapshot taken with savevm.",
                "With OUT, write it; without, print a summary (machine type, RAM blocks, sections, CPUs)."})
final class VmstateCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = {"-l", "--snapshot"}, paramLabel = "SNAPSHOT", required = true,
            description = "The snapshot (ID or name).")
    String snapshot;

    @Option(names = "--format", paramLabel = "stream|raw|lime|elf", defaultValue = "raw",
            description = "What to write (default raw): stream (the migration stream as stored), raw (a sparse "
                    + "guest-physical image of the RAM), lime (LiME segments) or elf (an ELF64 core, one PT_LOAD per RAM range).")
    String format;

    @Option(names = "--machine", paramLabel = "pc|q35",
            description = "The machine family for the RAM layout (default: the stream's machine type).")
    String machine;

    @Option(names = "--ram-below-4g", paramLabel = "SIZE",
            description = "The machine's max-ram-below-4g option, if the VM was started with one.")
    String ramBelow4g;

    @Option(names = "--block", paramLabel = "NAME[,NAME...]",
            description = "The RAM block to write (default: the main RAM: pc.ram, or a NUMA guest's node blocks "
                    + "ram-node0, ram-node1, ... in node order); one other block is written flat; a list is laid out "
                    + "as the main RAM in that order.")
    String block;

    @Mixin OutputOption output;

    @Mixin ForceShareOption forceShare;

    @Mixin ObjectOption objects;

    @Mixin ImageOptsOption imageOpts;

    @Parameters(index = "0", paramLabel = "FILE", description = "The qcow2 image.")
    String file;

    @Parameters(index = "1", paramLabel = "OUT", arity = "0..1", description = "The file to write.")
    String out;

    private static final OpenOptions INSPECT = new OpenOptions(false, false, 0, null, true);

    @Override
    public Integer call() throws Exception {
        VmStateFormat fmt;
        Machine mach;
        try {
            fmt = VmStateFormat.parse(format);
            mach = machine == null ? null : Machine.parse(machine);
        } catch (IllegalArgumentException e) {
            throw new Errors.CliException("vmstate: " + e.getMessage());
        }
        Long below = ramBelow4g == null ? null : SizeArg.parse(ramBelow4g);
        if (below != null && (below <= 0 || below % 4096 != 0)) {
            throw new Errors.CliException("vmstate: --ram-below-4g must be a positive multiple of 4 KiB");
        }
        MemoryOptions options = new MemoryOptions(block, mach, below);
        ImageArg image = objects.image(file, null, imageOpts, spec.commandLine().getErr());
        forceShare.refuseBesideWriter(image);
        ImageOpener.format(image.file(), "qcow2");
        // an encrypted image stores its VM state encrypted like data: the key decrypts both
        try (Qcow2Image img = Qcow2Image.open(image.path(), INSPECT.withSecrets(image.lookup()))) {
            SnapshotEntry entry = img.findSnapshot(snapshot)
                    .orElseThrow(() -> new Errors.CliException(img.describe() + ": snapshot '" + snapshot + "' not found"));
            VmState state = VmState.of(img, entry);
            if (out != null) {
                state.export(Path.of(out), fmt, options);
                return 0;
            }
            MemoryLayout layout;
            try {
                layout = state.layout(options);
            } catch (VmStateException e) {
                layout = null; // an unknown machine type: the summary still shows the rest
            }
            Object view = VmStateViews.summary(img.describe() + "@" + entry.name(), state, layout);
            PrintWriter w = spec.commandLine().getOut();
            if (output.json()) {
                w.println(QemuJson.mapper().copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(JsonShape.of(view)));
            } else {
                w.print(TextRender.of(view));
            }
            w.flush();
        }
        return 0;
    }
}
