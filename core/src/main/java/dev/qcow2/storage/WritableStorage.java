package dev.qcow2.storage;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Storage that can be changed. Only opened on an explicit request to write; the read-only
 * {@link FileStorage} has no write path at all.
 *
 * <p>Ordering contract: a {@link #flush()} returns only when every write issued before it is
 * durable. Metadata writers rely on it to keep "refcounts before the tables that reference
 * them" true across a crash.
 */
public interface WritableStorage extends Storage {

    /** Writes all remaining bytes of {@code src} at {@code offset}, growing the storage if needed. */
    void write(long offset, ByteBuffer src) throws IOException;

    /** Makes every earlier write durable. */
    void flush() throws IOException;

    /** Sets the length: truncates or extends (extension reads as zeros). */
    void setLength(long length) throws IOException;

    /**
     * Grows the storage to {@code newLength} with the new bytes allocated and reading as zeros
     * (qemu's preallocation=falloc; see {@link Fallocate}). Without a file: written zeros.
     */
    default void growAllocated(long newLength) throws IOException {
        if (newLength < size()) throw new IllegalArgumentException(describe() + ": cannot preallocate to " + newLength + " bytes");
        Fallocate.writeZeros(this, size(), newLength - size());
    }

    /**
     * Deallocates [offset, offset+length) keeping the size, as QEMU's discard of the host file
     * (FALLOC_FL_PUNCH_HOLE); false, nothing changed, where it cannot (QEMU then keeps the bytes).
     */
    default boolean punchHole(long offset, long length) throws IOException { return false; }

    @Override default boolean writable() { return true; }

    default void write(long offset, byte[] bytes) throws IOException {
        write(offset, ByteBuffer.wrap(bytes));
    }
}
