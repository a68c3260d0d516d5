package dev.qcow2.cli;

import dev.qcow2.storage.WritableStorage;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The new qcow2 file of a convert, with the engine's intermediate flushes dropped: qemu-img
 * convert writes its target with cache=unsafe (no flush until the end), since a convert that
 * dies midway leaves no image worth keeping either way. The only real flush is {@link #close()}'s,
 * before the lock is released.
 */
final class ConvertTargetStorage implements WritableStorage {
    private final WritableStorage file;

    ConvertTargetStorage(WritableStorage file) { this.file = file; }

    @Override public String describe() { return file.describe(); }
    @Override public long size() throws IOException { return file.size(); }
    @Override public void readFully(long offset, ByteBuffer dst) throws IOException { file.readFully(offset, dst); }
    @Override public void write(long offset, ByteBuffer src) throws IOException { file.write(offset, src); }
    @Override public void flush() { }
    @Override public void setLength(long length) throws IOException { file.setLength(length); }

    @Override
    public void close() throws IOException {
        try {
            file.flush();
        } finally {
            file.close();
        }
    }
}
