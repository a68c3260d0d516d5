package dev.qcow2.storage;

import dev.qcow2.Qcow2Exception;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The lock of an image open for writing, taken as QEMU 7.2 takes it when qemu-img or qemu-io
 * open an image read-write (raw_apply_lock_bytes, then raw_check_lock_bytes, block/file-posix.c):
 * a shared open-file-description lock on byte 100 + p for each permission p held (consistent
 * read 0, write 1, resize 3) and on byte 200 + p for each permission not shared with others
 * (write, resize); then a conflict test: someone not sharing a permission we hold ("Failed to
 * get "write" lock"), someone holding a permission we do not share ("Failed to get shared
 * "write" lock"). So QEMU and we refuse each other with QEMU's own words in both directions,
 * and QEMU's force-share readers (qemu-io -U -r, qemu-img convert -U), which take only byte 100,
 * read beside us. The locks live on the storage's {@link NativeDescriptor} and go with it.
 *
 * <p>Where OFD locks are unavailable (no native calls, another platform, EINVAL/ENOLCK/ENOSYS
 * from an old kernel or a network file system) one whole-file fcntl lock is taken instead, as
 * before: writers still exclude each other; QEMU then reports "Failed to lock byte 100".
 */
final class ImageLock {
    private static final String[] PERM_NAMES = {"consistent read", "write", "write unchanged", "resize"};
    /** BLK_PERM_CONSISTENT_READ, BLK_PERM_WRITE, BLK_PERM_RESIZE: what a read-write open holds. */
    private static final int[] HELD = {0, 1, 3};
    /** BLK_PERM_WRITE, BLK_PERM_RESIZE: what a read-write open does not share. */
    private static final int[] UNSHARED = {1, 3};
    private static final long PERM_BASE = 100, SHARED_BASE = 200;

    /** The fallback lock; null when the OFD byte locks are held. */
    private final FileLock whole;

    private ImageLock(FileLock whole) { this.whole = whole; }

    /** Whether QEMU's byte locks are held (false: the whole-file fallback). */
    boolean qemuBytes() { return whole == null; }

    /** Locks {@code path} for writing through {@code fd} (OFD) or {@code channel} (fallback); refuses with QEMU's words. */
    static ImageLock acquire(Path path, FileChannel channel, NativeDescriptor fd) throws IOException {
        Optional<NativeDescriptor.Open> open = fd.open();
        if (open.isPresent()) {
            try {
                qemuBytes(path, open.get());
                return new ImageLock(null);
            } catch (Libc.NativeCallException e) {
                if (e.errno != Libc.EINVAL && e.errno != Libc.ENOLCK && e.errno != Libc.ENOSYS) {
                    throw new Qcow2Exception(path.toString(), "Failed to lock the image: " + e.getMessage(), e);
                }
            }
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) throw refused(path, "Failed to get \"write\" lock");
        return new ImageLock(lock);
    }

    private static void qemuBytes(Path path, NativeDescriptor.Open f) throws IOException {
        for (int p : HELD) apply(path, f, PERM_BASE + p);
        for (int p : UNSHARED) apply(path, f, SHARED_BASE + p);
        for (int p : HELD) {
            if (f.libc().ofdLock(f.fd(), f.path(), Libc.F_OFD_GETLK, Libc.F_WRLCK, SHARED_BASE + p, 1) != Libc.F_UNLCK) {
                throw refused(path, "Failed to get \"" + PERM_NAMES[p] + "\" lock");
            }
        }
        for (int p : UNSHARED) {
            if (f.libc().ofdLock(f.fd(), f.path(), Libc.F_OFD_GETLK, Libc.F_WRLCK, PERM_BASE + p, 1) != Libc.F_UNLCK) {
                throw refused(path, "Failed to get shared \"" + PERM_NAMES[p] + "\" lock");
            }
        }
    }

    private static void apply(Path path, NativeDescriptor.Open f, long at) throws IOException {
        try {
            f.libc().ofdLock(f.fd(), f.path(), Libc.F_OFD_SETLK, Libc.F_RDLCK, at, 1);
        } catch (Libc.NativeCallException e) {
            // someone holds an exclusive lock over the byte (an older whole-file writer)
            if (e.errno == Libc.EAGAIN || e.errno == Libc.EACCES) throw new Qcow2Exception(path.toString(), "Failed to lock byte " + at);
            throw e;
        }
    }

    /**
     * What a read-only open without force-share (qemu-img info, check, map, convert without -U)
     * checks before it reads: QEMU's reader does not share "write" and "resize", so it is refused
     * while another open file description holds either permission's byte (101, 103) — a qemu
     * writer or ours. Only tested (F_OFD_GETLK), never locked: a read-only open takes no lock.
     * Without native calls, or when the file cannot be opened here, nothing is checked (the open
     * that follows reports what is wrong).
     */
    static void refuseBesideWriter(Path path) throws IOException {
        Optional<Libc> bound = Libc.get();
        if (bound.isEmpty()) return;
        Libc libc = bound.get();
        String name = path.toAbsolutePath().toString();
        int fd;
        try {
            fd = libc.open(name, Libc.O_RDONLY);
        } catch (Libc.NativeCallException e) {
            return;
        }
        try {
            for (int p : UNSHARED) {
                short held;
                try {
                    held = libc.ofdLock(fd, name, Libc.F_OFD_GETLK, Libc.F_WRLCK, PERM_BASE + p, 1);
                } catch (Libc.NativeCallException e) {
                    return;     // no OFD locks here: nothing to test against
                }
                if (held != Libc.F_UNLCK) throw refused(path, "Failed to get shared \"" + PERM_NAMES[p] + "\" lock");
            }
        } finally {
            libc.close(fd, name);
        }
    }

    /** QEMU's error and its hint (error_append_hint), on one line. */
    private static Qcow2Exception refused(Path path, String what) {
        return new Qcow2Exception(path.toString(), what + "; is another process using the image [" + path + "]?");
    }

    /** Releases the fallback lock; the byte locks go when the descriptor closes. */
    void release() throws IOException {
        if (whole != null && whole.isValid()) whole.release();
    }
}
