package dev.qcow2.vmstate;

import java.util.List;
import java.util.Map;

/**
 * The RAM block an export or a guest-memory read is about, and where its bytes sit in guest-physical
 * space: the main RAM with the x86 split, any other block flat at 0.
 */
public record MemoryLayout(String block, long blockSize, List<RamRange> ranges) {

    /**
     * Resolves {@code options} against a stream's block list (name to used length, in stream order)
     * and machine type; fails with a one-line reason (no such block, unknown machine).
     */
    static MemoryLayout resolve(Map<String, Long> blocks, String machineType, MemoryOptions options,
                                VmStateBytes bytes, long streamOffset) throws VmStateException {
        String main = blocks.containsKey("pc.ram") ? "pc.ram" : blocks.entrySet().stream()
                .max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(null);
        String name = options.block() != null ? options.block() : main;
        if (name == null || !blocks.containsKey(name)) {
            throw bytes.error(streamOffset, "no RAM block '" + name + "' (the stream has " + String.join(", ", blocks.keySet()) + ")");
        }
        long size = blocks.get(name);
        if (!name.equals(main)) return new MemoryLayout(name, size, PhysicalLayout.flat(size));
        Machine machine = options.machine() != null ? options.machine() : Machine.of(machineType);
        if (machine == null) {
            throw bytes.error(streamOffset, "machine type '" + machineType
                    + "' has no known RAM layout; pass --machine=pc or --machine=q35");
        }
        boolean align = Machine.gigabyteAlign(machineType); // no type (a --machine override alone): a modern one
        return new MemoryLayout(name, size, PhysicalLayout.x86(machine, align, size, options.ramBelow4g()));
    }

    /** The guest-physical end of the highest range. */
    public long guestEnd() { return ranges.stream().mapToLong(RamRange::guestEnd).max().orElse(0); }
}
