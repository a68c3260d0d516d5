package dev.qcow2.alloc;

import dev.qcow2.storage.WritableStorage;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The image file as the write engine sees it: every write goes through here, so the engine
 * knows whether anything is still unflushed. {@link #barrier()} is the ordering point of the
 * crash-safety rule "refcounts and new tables durable before anything references them": it
 * flushes only when something was written since the last flush.
 */
public final class SyncedStorage {
    private final WritableStorage storage;
    private boolean unflushed;
    private long length;

    public SyncedStorage(WritableStorage storage) throws IOException {
        this.storage = storage;
        this.length = storage.size();
    }

    public WritableStorage raw() { return storage; }

    public String describe() { return storage.describe(); }

    /** The file length as last seen or set by this engine. */
    public long length() { return length; }

    public byte[] read(long offset, int len) throws IOException { return storage.read(offset, len); }

    public void write(long offset, byte[] bytes) throws IOException { write(offset, bytes, 0, bytes.length); }

    public void write(long offset, byte[] bytes, int from, int len) throws IOException {
        if (len == 0) return;
        storage.write(offset, ByteBuffer.wrap(bytes, from, len));
        unflushed = true;
        length = Math.max(length, offset + len);
    }

    /** Grows the file so that it covers {@code end}; never shrinks. */
    public void extendTo(long end) throws IOException {
        if (end > length) {
            storage.setLength(end);
            unflushed = true;
            length = end;
        }
    }

    /** Makes every earlier write durable, if there is any not yet flushed. */
    public void barrier() throws IOException {
        if (unflushed) flush();
    }

    public void flush() throws IOException {
        storage.flush();
        unflushed = false;
    }
}
