package dev.qcow2.vmstate;

import java.util.List;
import java.util.Optional;

/**
 * What a snapshot's VM state holds, as decoded from its migration stream.
 *
 * @param machineType  the configuration section's machine type ("pc-i440fx-7.2"), or null when absent
 * @param pageSize     the target page size of the RAM section
 * @param vmStateSize  the stream's length (the snapshot's vm_state_size)
 * @param ramBlocks    the RAM blocks in the order of the stream's block list
 * @param sections     every section header read, in stream order (RAM once)
 * @param cpus         the x86 {@code cpu} sections whose registers could be read
 * @param incomplete   why the device sections could not all be walked, or null when they were
 */
public record VmStateSummary(String machineType, int pageSize, long vmStateSize, List<RamBlock> ramBlocks,
                             List<Section> sections, List<CpuState> cpus, String incomplete) {

    /**
     * One RAM block of the stream's block list (ram_save_setup: idstr, used_length).
     *
     * @param dataPages pages sent with their bytes (RAM_SAVE_FLAG_PAGE)
     * @param zeroPages pages sent as one fill byte (RAM_SAVE_FLAG_ZERO)
     */
    public record RamBlock(String name, long usedLength, long dataPages, long zeroPages) { }

    /** A section header: {@code kind} is "full" for device sections, "iterable" for ram. */
    public record Section(long id, String name, long instanceId, long version, String kind) { }

    /**
     * Registers of one x86 CPU from its {@code cpu} section (target/i386/machine.c
     * vmstate_x86_cpu: env.regs[16], env.eip, env.cr[5]); a field the description lacks is null.
     */
    public record CpuState(long instanceId, Long cr0, Long cr3, Long cr4, Long rip, Long rsp) { }

    public Optional<RamBlock> block(String name) {
        return ramBlocks.stream().filter(b -> b.name().equals(name)).findFirst();
    }

    /**
     * The blocks of the guest's main RAM in guest-physical order ({@link MainRam}): {@code pc.ram},
     * a NUMA guest's node blocks, else the largest block.
     */
    public List<RamBlock> mainRam() {
        java.util.Map<String, Long> sizes = new java.util.LinkedHashMap<>();
        for (RamBlock b : ramBlocks) sizes.put(b.name(), b.usedLength());
        return MainRam.blocks(sizes).stream().map(n -> block(n).orElseThrow()).toList();
    }
}
