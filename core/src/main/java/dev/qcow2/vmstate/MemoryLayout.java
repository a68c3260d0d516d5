package dev.qcow2.vmstate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The RAM an export or a guest-memory read is about, and where its bytes sit in guest-physical
 * space: the main RAM with the x86 split (one block, or a NUMA guest's node blocks one after the
 * other), any other block flat at 0. Range offsets are offsets in that RAM: a part's block
 * offset plus the part's base.
 *
 * @param block     the name shown for it: one block's name, or the parts' names joined by '+'
 * @param blockSize the RAM's length (the parts' lengths added)
 * @param parts     the blocks it is made of, each at its base offset in the RAM
 */
public record MemoryLayout(String block, long blockSize, List<RamRange> ranges, List<Part> parts) {

    /** One stream RAM block inside the RAM: block bytes [0, size) are RAM bytes [base, base + size). */
    public record Part(String block, long base, long size) { }

    public MemoryLayout {
        ranges = List.copyOf(ranges);
        parts = List.copyOf(parts);
    }

    /** A layout of one block. */
    public MemoryLayout(String block, long blockSize, List<RamRange> ranges) {
        this(block, blockSize, ranges, List.of(new Part(block, 0, blockSize)));
    }

    /**
     * Resolves {@code options} against a stream's block list (name to used length, in stream order)
     * and machine type; fails with a one-line reason (no such block, unknown machine).
     */
    static MemoryLayout resolve(Map<String, Long> blocks, String machineType, MemoryOptions options,
                                VmStateBytes bytes, long streamOffset) throws VmStateException {
        List<String> main = MainRam.blocks(blocks);
        List<String> names = options.block() != null ? Arrays.asList(options.block().split(",", -1)) : main;
        if (names.isEmpty()) throw bytes.error(streamOffset, "the stream's RAM block list is empty");
        List<Part> parts = new ArrayList<>();
        long size = 0;
        for (String name : names) {
            if (!blocks.containsKey(name)) {
                throw bytes.error(streamOffset, "no RAM block '" + name + "' (the stream has " + String.join(", ", blocks.keySet()) + ")");
            }
            if (parts.stream().anyMatch(p -> p.block().equals(name))) throw bytes.error(streamOffset, "RAM block '" + name + "' named twice");
            parts.add(new Part(name, size, blocks.get(name)));
            size += blocks.get(name);
        }
        String shown = String.join("+", names);
        // one block that is not the main RAM: flat, as the block's own image
        if (!names.equals(main) && names.size() == 1) return new MemoryLayout(shown, size, PhysicalLayout.flat(size), parts);
        Machine machine = options.machine() != null ? options.machine() : Machine.of(machineType);
        if (machine == null) {
            throw bytes.error(streamOffset, "machine type '" + machineType
                    + "' has no known RAM layout; pass --machine=pc or --machine=q35");
        }
        boolean align = Machine.gigabyteAlign(machineType); // no type (a --machine override alone): a modern one
        return new MemoryLayout(shown, size, PhysicalLayout.x86(machine, align, size, options.ramBelow4g()), parts);
    }

    /** Where {@code block}'s offset 0 sits in this RAM, or -1 when the block is not part of it. */
    public long base(String block) {
        for (Part p : parts) if (p.block().equals(block)) return p.base();
        return -1;
    }

    /** The guest-physical end of the highest range. */
    public long guestEnd() { return ranges.stream().mapToLong(RamRange::guestEnd).max().orElse(0); }
}
