package dev.qcow2.vmstate;

import java.util.List;

/**
 * Where the guest sees its main RAM block (QEMU 7.2 hw/i386/pc_piix.c pc_init1 and
 * hw/i386/pc_q35.c pc_q35_init): the first {@code below} bytes at guest-physical 0, the rest at
 * 4 GiB. i440fx: {@code max-ram-below-4g} defaults to 3.5 GiB; once RAM reaches it, machine types
 * after 1.7 lower it to 3 GiB (gigabyte_align). q35: 2 GiB once RAM reaches 2.75 GiB, else
 * 2.75 GiB, never above {@code max-ram-below-4g}. That option is not in the stream, so it is a
 * parameter ({@code --ram-below-4g}).
 */
public final class PhysicalLayout {
    static final long GIB = 1L << 30;
    static final long FOUR_GIB = 4 * GIB;

    private PhysicalLayout() { }

    /** The RAM below 4 GiB for a guest of {@code ramSize} bytes; {@code maxBelow4g} null for the machine's default. */
    public static long below4g(Machine machine, boolean gigabyteAlign, long ramSize, Long maxBelow4g) {
        long lowmem;
        switch (machine) {
            case PC -> {
                long max = maxBelow4g == null ? 0xe0000000L : maxBelow4g;
                lowmem = max;
                if (ramSize >= max && gigabyteAlign && lowmem > 0xc0000000L) lowmem = 0xc0000000L;
            }
            case Q35 -> {
                lowmem = ramSize >= 0xb0000000L ? 0x80000000L : 0xb0000000L;
                if (maxBelow4g != null && lowmem > maxBelow4g) lowmem = maxBelow4g;
            }
            default -> throw new IllegalStateException();
        }
        return Math.min(ramSize, lowmem);
    }

    /** The main RAM's ranges: one, or two when part of it sits above 4 GiB. */
    public static List<RamRange> x86(Machine machine, boolean gigabyteAlign, long ramSize, Long maxBelow4g) {
        long below = below4g(machine, gigabyteAlign, ramSize, maxBelow4g);
        if (below >= ramSize) return List.of(new RamRange(0, 0, ramSize));
        return List.of(new RamRange(0, 0, below), new RamRange(below, FOUR_GIB, ramSize - below));
    }

    /** A block shown as it is: block offset = output offset. */
    public static List<RamRange> flat(long blockSize) { return List.of(new RamRange(0, 0, blockSize)); }
}
