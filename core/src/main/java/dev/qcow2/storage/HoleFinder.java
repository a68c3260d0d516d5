package dev.qcow2.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * Where a host file's holes are, for block status on raw files and metadata-preallocated qcow2
 * images (QEMU 7.2 block/file-posix.c raw_co_block_status over find_allocation).
 *
 * <p>Native: lseek(SEEK_DATA) from the offset; if data starts there, lseek(SEEK_HOLE) says where
 * it ends (a data run), else the hole runs to that data (ENXIO: a hole up to the end of the
 * file). Fallback, when libc is unavailable or the file system answers EINVAL/EOPNOTSUPP: a
 * file that occupies at least as many bytes as its length has no holes; in a sparse one an
 * all-zero 4 KiB block is taken for a hole (the guess Java 17 had to make; it differs from
 * QEMU only where zeros were written or fallocate(ZERO_RANGE)d).
 */
public final class HoleFinder {
    private static final int HOST_BLOCK = 4096;

    private HoleFinder() { }

    /**
     * The run from {@code offset} (at most {@code length} bytes, clipped to the end of the file)
     * that is all hole or all data. {@code offset} must lie inside the file.
     */
    static HostRun run(Storage storage, NativeDescriptor descriptor, long offset, long length) throws IOException {
        checkArguments(storage, offset, length);
        Optional<NativeDescriptor.Open> open = descriptor.open();
        if (open.isPresent()) {
            Optional<HostRun> r = seek(open.get(), storage.size(), offset, length);
            if (r.isPresent()) return r.get();
        }
        return guess(storage, offset, length);
    }

    /** The native answer, or empty when the file system cannot tell (fallback). */
    static Optional<HostRun> seek(NativeDescriptor.Open f, long size, long offset, long length) throws IOException {
        long end = Math.min(size, offset + length);
        long data;
        try {
            data = f.libc().lseek(f.fd(), f.path(), offset, Libc.SEEK_DATA);
        } catch (Libc.NativeCallException e) {
            if (e.errno == Libc.ENXIO) return Optional.of(new HostRun(end - offset, true));     // trailing hole
            if (e.unsupported()) return Optional.empty();
            throw e;
        }
        if (data > offset) return Optional.of(new HostRun(Math.min(end, data) - offset, true));
        long hole;
        try {
            hole = f.libc().lseek(f.fd(), f.path(), offset, Libc.SEEK_HOLE);
        } catch (Libc.NativeCallException e) {
            if (e.unsupported() || e.errno == Libc.ENXIO) return Optional.empty();
            throw e;
        }
        // find_allocation treats a hole before offset as "file changed under us": data to the end of the request
        if (hole <= offset) return Optional.of(new HostRun(end - offset, false));
        return Optional.of(new HostRun(Math.min(end, hole) - offset, false));
    }

    /** The pure-Java answer: zero 4 KiB blocks of a sparse file are holes, everything else data. */
    public static HostRun guess(Storage storage, long offset, long length) throws IOException {
        checkArguments(storage, offset, length);
        long size = storage.size();
        long end = Math.min(size, offset + length);
        long allocated = storage.allocatedBytes();
        if (allocated < 0 || allocated >= size) return new HostRun(end - offset, false);
        byte[] block = new byte[HOST_BLOCK];
        long pos = offset;
        Boolean hole = null;
        while (pos < end) {
            long blockEnd = Math.min(end, (pos / HOST_BLOCK + 1) * HOST_BLOCK);
            int n = (int) (blockEnd - pos);
            storage.readFully(pos, ByteBuffer.wrap(block, 0, n));
            boolean z = allZero(block, n);
            if (hole == null) hole = z;
            else if (hole != z) break;
            pos = blockEnd;
        }
        return new HostRun(pos - offset, hole);
    }

    private static void checkArguments(Storage storage, long offset, long length) throws IOException {
        long size = storage.size();
        if (offset < 0 || length <= 0 || offset >= size) {
            throw new IllegalArgumentException(storage.describe() + ": no host bytes at offset " + offset
                    + " (" + length + " bytes, file size " + size + ")");
        }
    }

    private static boolean allZero(byte[] b, int n) {
        for (int i = 0; i < n; i++) if (b[i] != 0) return false;
        return true;
    }
}
