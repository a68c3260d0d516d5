package dev.qcow2.view;

import dev.qcow2.vmstate.MemoryLayout;
import dev.qcow2.vmstate.RamRange;
import dev.qcow2.vmstate.VmState;
import dev.qcow2.vmstate.VmStateSummary;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The VM state of a snapshot ({@code qcow2 vmstate --output=json|human}, the DSL's
 * {@code snapshot('s1').vmstate}): machine type, RAM blocks, device sections, CPU registers.
 */
public final class VmStateViews {
    public static final String VMSTATE_TYPE = "vmstate";

    private VmStateViews() { }

    /**
     * One record: the summary of {@code state}, and where its main RAM sits in guest-physical space
     * ({@code layout}, null when the machine's layout is unknown).
     */
    public static RecordView summary(String subject, VmState state, MemoryLayout layout) throws IOException {
        VmStateSummary s = state.summary();
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("snapshot", state.snapshot().name());
        f.put("machine_type", s.machineType());
        f.put("page_size", (long) s.pageSize());
        f.put("vm_state_size", s.vmStateSize());
        f.put("vm_state_offset", state.location().offset().value());
        List<VmStateSummary.RamBlock> main = s.mainRam();
        f.put("main_ram", main.isEmpty() ? null : String.join("+", main.stream().map(VmStateSummary.RamBlock::name).toList()));
        f.put("ram_size", main.isEmpty() ? null : main.stream().mapToLong(VmStateSummary.RamBlock::usedLength).sum());

        TableView.Builder blocks = TableView.of("ram-block", "RAM blocks", List.of(Column.plain("name"),
                Column.bytes("size"), Column.plain("data_pages"), Column.plain("zero_pages")));
        for (VmStateSummary.RamBlock b : s.ramBlocks()) blocks.add(b.name(), b.usedLength(), b.dataPages(), b.zeroPages());
        f.put("ram_blocks", blocks.build());

        if (layout != null) {
            TableView.Builder ranges = TableView.of("ram-range", "guest-physical ranges of " + layout.block(), List.of(
                    Column.hex("guest_physical"), Column.hex("block_offset"), Column.bytes("length")));
            for (RamRange r : layout.ranges()) ranges.add(r.guestPhysical(), r.blockOffset(), r.length());
            f.put("ram_ranges", ranges.build());
        }

        TableView.Builder sections = TableView.of("vmstate-section", "sections", List.of(Column.plain("section_id"),
                Column.plain("name"), Column.plain("instance_id"), Column.plain("version"), Column.plain("kind")));
        for (VmStateSummary.Section x : s.sections()) sections.add(x.id(), x.name(), x.instanceId(), x.version(), x.kind());
        f.put("sections", sections.build());

        f.put("cpu_count", (long) s.cpus().size());
        TableView.Builder cpus = TableView.of("cpu", "CPUs", List.of(Column.plain("instance_id"), Column.hex("cr3"),
                Column.hex("cr0"), Column.hex("cr4"), Column.hex("rip"), Column.hex("rsp")));
        for (VmStateSummary.CpuState c : s.cpus()) cpus.add(c.instanceId(), c.cr3(), c.cr0(), c.cr4(), c.rip(), c.rsp());
        f.put("cpus", cpus.build());
        f.put("incomplete", s.incomplete());
        return new RecordView(VMSTATE_TYPE, "VM state of " + subject, f, Map.of("page_size", Unit.BYTES,
                "vm_state_size", Unit.BYTES, "vm_state_offset", Unit.HEX, "ram_size", Unit.BYTES));
    }
}
