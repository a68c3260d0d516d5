package dev.qcow2.storage;

/**
 * A run of host file bytes that is all hole or all data, as file-posix's find_allocation
 * answers: {@code hole} bytes read as zeros and occupy no disk space.
 */
public record HostRun(long length, boolean hole) {
    public HostRun {
        if (length <= 0) throw new IllegalArgumentException("host run of " + length + " bytes");
    }
}
