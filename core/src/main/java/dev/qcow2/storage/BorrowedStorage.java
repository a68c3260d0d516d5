package dev.qcow2.storage;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A writable storage lent to a component that closes what it is given (e.g. a writer opened in
 * the middle of a longer operation): everything is passed through except {@link #close()}, so
 * the owner keeps the file, and its lock, open.
 */
public record BorrowedStorage(WritableStorage owner) implements WritableStorage {
    @Override public String describe() { return owner.describe(); }
    @Override public long size() throws IOException { return owner.size(); }
    @Override public void readFully(long offset, ByteBuffer dst) throws IOException { owner.readFully(offset, dst); }
    @Override public void write(long offset, ByteBuffer src) throws IOException { owner.write(offset, src); }
    @Override public void flush() throws IOException { owner.flush(); }
    @Override public void setLength(long length) throws IOException { owner.setLength(length); }
    @Override public long allocatedBytes() throws IOException { return owner.allocatedBytes(); }
    @Override public HostRun hostRun(long offset, long length) throws IOException { return owner.hostRun(offset, length); }
    @Override public void growAllocated(long newLength) throws IOException { owner.growAllocated(newLength); }
    @Override public boolean punchHole(long offset, long length) throws IOException { return owner.punchHole(offset, length); }
    @Override public void close() { }
}
