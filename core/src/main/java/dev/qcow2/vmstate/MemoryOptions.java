package dev.qcow2.vmstate;

/**
 * Which RAM block to lay out and how.
 *
 * @param block      the block's name, or names separated by commas laid out as the main RAM in that order,
 *                   or null for the main RAM ({@link MainRam}: {@code pc.ram}, a NUMA guest's nodes, else the largest block)
 * @param machine    the machine family, or null to take it from the stream's configuration section
 * @param ramBelow4g the machine's {@code max-ram-below-4g} option, or null for its default
 */
public record MemoryOptions(String block, Machine machine, Long ramBelow4g) {
    public static MemoryOptions defaults() { return new MemoryOptions(null, null, null); }
}
