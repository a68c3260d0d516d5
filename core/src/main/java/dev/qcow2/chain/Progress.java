package dev.qcow2.chain;

/** Told how far a commit or rebase has come, in guest bytes (qemu-img's {@code -p}). */
@FunctionalInterface
public interface Progress {
    Progress NONE = (done, total) -> { };

    void update(long done, long total);
}
