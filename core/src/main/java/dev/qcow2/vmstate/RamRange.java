package dev.qcow2.vmstate;

/** A piece of a RAM block at a guest-physical address: block bytes [blockOffset, blockOffset + length). */
public record RamRange(long blockOffset, long guestPhysical, long length) {
    public long blockEnd() { return blockOffset + length; }

    public long guestEnd() { return guestPhysical + length; }
}
