package dev.qcow2.storage;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A second descriptor of a storage's file, for the libc calls that need one ({@link Libc}).
 *
 * <p>Why a second descriptor: a {@code FileChannel} hides its descriptor (reaching it would
 * need {@code --add-opens java.base/sun.nio.ch}), so the same path is opened again with
 * open(2) — O_RDONLY for lseek/fstat under a read-only storage (read-only stays read-only),
 * O_RDWR for fallocate under a writable one. It is opened on first use and kept with the
 * storage until the storage closes, not opened per call: closing any descriptor of a file drops
 * the process's fcntl locks on it, so a per-call close would silently drop
 * {@link WritableFileStorage}'s write lock. The storage closes this one only after releasing
 * its lock. The path is resolved once, right after the channel was opened on it.
 *
 * <p>A failed open (file gone, permission) is remembered and every call then reports
 * "unavailable", so the caller falls back to pure Java instead of retrying each time.
 */
final class NativeDescriptor implements AutoCloseable {
    private final Path path;
    private final int flags;
    private int fd = -1;
    /** The binding the descriptor was opened with (closed with it, even if native calls are switched off since). */
    private Libc openedWith;
    private boolean unusable;
    private boolean closed;

    NativeDescriptor(Path path, boolean writable) {
        this.path = path;
        this.flags = writable ? Libc.O_RDWR : Libc.O_RDONLY;
    }

    String describe() { return path.toString(); }

    /** The bound libc and an open descriptor, or empty: the caller uses its fallback. */
    synchronized Optional<Open> open() throws java.io.IOException {
        if (closed) throw new java.nio.channels.ClosedChannelException();
        if (unusable) return Optional.empty();
        Optional<Libc> libc = Libc.get();
        if (libc.isEmpty()) return Optional.empty();
        if (fd < 0) {
            try {
                fd = libc.get().open(path.toAbsolutePath().toString(), flags);
                openedWith = libc.get();
            } catch (Libc.NativeCallException e) {
                unusable = true;
                return Optional.empty();
            }
        }
        return Optional.of(new Open(libc.get(), fd, path.toString()));
    }

    /** A usable descriptor with its libc binding. */
    record Open(Libc libc, int fd, String path) { }

    @Override
    public synchronized void close() throws java.io.IOException {
        if (closed) return;
        closed = true;
        if (fd >= 0) {
            int f = fd;
            fd = -1;
            openedWith.close(f, path.toString());
        }
    }
}
