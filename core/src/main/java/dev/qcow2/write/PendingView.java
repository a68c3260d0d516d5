package dev.qcow2.write;

import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The image being written, as the shared read path ({@link dev.qcow2.image.LayerReader}) reads
 * it: every read sees the writes the engine still holds in memory ({@link SyncedStorage}'s
 * pending records), so copy-on-write and {@code qcow2 io read} read what the file will hold.
 * Closing the view does nothing: the writer owns the file.
 */
final class PendingView implements Storage {
    private final SyncedStorage storage;

    PendingView(SyncedStorage storage) { this.storage = storage; }

    @Override public String describe() { return storage.describe(); }

    @Override public long size() { return storage.length(); }

    @Override public void readFully(long offset, ByteBuffer dst) throws IOException { storage.readFully(offset, dst); }

    @Override public void close() { }
}
