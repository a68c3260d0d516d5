package dev.qcow2.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * fallocate(2) on a writable file, each mode with the fallback QEMU's file driver has when the
 * file system refuses (EOPNOTSUPP) or libc is unavailable.
 */
public final class Fallocate {
    private static final int ZERO_CHUNK = 1 << 20;

    private Fallocate() { }

    /**
     * Grows the file to {@code newLength} with the new bytes allocated and reading as zeros
     * (file-posix raw_regular_truncate with PREALLOC_MODE_FALLOC: posix_fallocate(fd,
     * current_length, new_length - current_length)). Fallback: writes the zeros, as glibc's
     * posix_fallocate emulation does. A shorter or equal {@code newLength} is refused.
     */
    static void growAllocated(WritableStorage storage, NativeDescriptor descriptor, long newLength) throws IOException {
        long current = storage.size();
        if (newLength < current) {
            throw new IllegalArgumentException(storage.describe() + ": cannot preallocate to " + newLength
                    + " bytes, the file already has " + current);
        }
        if (newLength == current) return;
        Optional<NativeDescriptor.Open> open = descriptor.open();
        if (open.isPresent()) {
            NativeDescriptor.Open f = open.get();
            try {
                f.libc().fallocate(f.fd(), f.path(), 0, current, newLength - current);
                return;
            } catch (Libc.NativeCallException e) {
                if (!e.unsupported()) throw e;
            }
        }
        writeZeros(storage, current, newLength - current);
    }

    /**
     * Deallocates [offset, offset+length) keeping the file size (FALLOC_FL_PUNCH_HOLE |
     * FALLOC_FL_KEEP_SIZE, as file-posix's discard). Returns false, changing nothing, when the
     * file system cannot punch: QEMU then ignores the discard (-ENOTSUP) and the bytes stay.
     */
    static boolean punchHole(WritableStorage storage, NativeDescriptor descriptor, long offset, long length) throws IOException {
        checkRange(storage, offset, length);
        if (length == 0) return true;
        Optional<NativeDescriptor.Open> open = descriptor.open();
        if (open.isEmpty()) return false;
        NativeDescriptor.Open f = open.get();
        try {
            f.libc().fallocate(f.fd(), f.path(), Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE, offset, length);
            return true;
        } catch (Libc.NativeCallException e) {
            if (e.unsupported()) return false;
            throw e;
        }
    }

    private static void checkRange(Storage storage, long offset, long length) throws IOException {
        if (offset < 0 || length < 0 || offset > Long.MAX_VALUE - length) {
            throw new IllegalArgumentException(storage.describe() + ": no host range at offset " + offset
                    + " (" + length + " bytes)");
        }
    }

    /** Writes {@code length} zero bytes at {@code offset} (preallocation=full, and the fallback of {@link #growAllocated}). */
    public static void writeZeros(WritableStorage s, long offset, long length) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(ZERO_CHUNK, Math.max(length, 1)));
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(zeros.capacity(), length - done);
            zeros.clear().limit(n);
            s.write(offset + done, zeros);
            done += n;
        }
    }
}
