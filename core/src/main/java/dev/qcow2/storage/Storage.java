package dev.qcow2.storage;

import dev.qcow2.CorruptImageException;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Absolute, complete reads of a file-like resource. No hidden cursor: every call names its
 * offset, so one instance serves concurrent readers.
 */
public interface Storage extends Closeable {

    /** A human name for error messages (usually the path as the user gave it). */
    String describe();

    /** Current length in bytes. */
    long size() throws IOException;

    /**
     * Fills {@code dst} from {@code offset} until it has no remaining bytes. Never returns
     * short: bytes past the end of the storage read as zeros (as QEMU's file driver does).
     */
    void readFully(long offset, ByteBuffer dst) throws IOException;

    /** Whether this storage can be written at all. Read-only storage has no write path. */
    default boolean writable() { return false; }

    /** Bytes actually allocated on the host file system, or -1 if unknown. */
    default long allocatedBytes() throws IOException { return -1; }

    /**
     * The run of bytes from {@code offset} (at most {@code length}, clipped to the end; offset
     * inside the storage) that is all hole or all data, as the host file system says. Storage
     * without a file answers with {@link HoleFinder#guess}.
     */
    default HostRun hostRun(long offset, long length) throws IOException {
        return HoleFinder.guess(this, offset, length);
    }

    /**
     * Refuses a read whose offset is negative or whose end overflows: such an offset can only
     * come from a damaged image whose value escaped validation, so it is reported as corruption
     * instead of the JDK's IllegalArgumentException.
     */
    static void checkRange(String resource, long offset, long length) throws CorruptImageException {
        if (offset < 0 || length < 0 || offset > Long.MAX_VALUE - length) {
            throw new CorruptImageException(resource, "read", -1, offset,
                    "offset 0x" + Long.toHexString(offset) + " (" + length + " bytes) is outside any file");
        }
    }

    /**
     * Positional read of a file channel with this interface's contract: never short, and bytes
     * past the end of the file read as zeros.
     */
    static void readFully(java.nio.channels.FileChannel channel, String resource, long offset, ByteBuffer dst)
            throws IOException {
        checkRange(resource, offset, dst.remaining());
        long position = offset;
        try {
            while (dst.hasRemaining()) {
                int n = channel.read(dst, position);
                if (n < 0) {
                    while (dst.hasRemaining()) dst.put((byte) 0);
                    return;
                }
                position += n;
            }
        } catch (IOException e) {
            throw failure(resource, "read", e);
        }
    }

    /**
     * A failed system call on a file as one line naming the file and the system's reason, in
     * qemu-io's words ({@code f.qcow2: write failed: No space left on device}). A closed or
     * interrupted channel and the library's own exceptions pass as they are.
     */
    static IOException failure(String resource, String op, IOException e) {
        if (e instanceof dev.qcow2.Qcow2Exception || e instanceof java.nio.channels.ClosedChannelException
                || e instanceof java.io.InterruptedIOException || e instanceof java.nio.file.FileSystemException) {
            return e;
        }
        String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip().lines().findFirst().orElse("");
        return new dev.qcow2.Qcow2Exception(resource, op + " failed: " + reason, e);
    }

    default byte[] read(long offset, int length) throws IOException {
        byte[] bytes = new byte[length];
        readFully(offset, ByteBuffer.wrap(bytes));
        return bytes;
    }
}
