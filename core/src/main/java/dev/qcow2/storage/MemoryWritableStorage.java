package dev.qcow2.storage;

import java.nio.ByteBuffer;
import java.util.Arrays;

/** A growable in-memory writable storage, for tests and for building images in memory. */
public final class MemoryWritableStorage implements WritableStorage {
    private final String name;
    private byte[] bytes;
    private long length;

    public MemoryWritableStorage(String name) {
        this(name, new byte[0]);
    }

    public MemoryWritableStorage(String name, byte[] initial) {
        this.name = name;
        this.bytes = initial.clone();
        this.length = initial.length;
    }

    @Override public String describe() { return name; }

    @Override public synchronized long size() { return length; }

    @Override
    public synchronized void readFully(long offset, ByteBuffer dst) throws dev.qcow2.CorruptImageException {
        Storage.checkRange(name, offset, dst.remaining());
        while (dst.hasRemaining()) {
            if (offset >= length) {
                dst.put((byte) 0);
                offset++;
            } else {
                int n = (int) Math.min(dst.remaining(), length - offset);
                dst.put(bytes, (int) offset, n);
                offset += n;
            }
        }
    }

    @Override
    public synchronized void write(long offset, ByteBuffer src) throws dev.qcow2.CorruptImageException {
        Storage.checkRange(name, offset, src.remaining());
        long end = offset + src.remaining();
        if (end > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("memory storage limited to 2 GiB");
        ensureCapacity((int) end);
        src.get(bytes, (int) offset, src.remaining());
        length = Math.max(length, end);
    }

    @Override public void flush() { }

    @Override
    public synchronized void setLength(long newLength) {
        if (newLength > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("memory storage limited to 2 GiB");
        ensureCapacity((int) newLength);
        if (newLength < length) Arrays.fill(bytes, (int) newLength, (int) length, (byte) 0);
        length = newLength;
    }

    private void ensureCapacity(int needed) {
        if (needed > bytes.length) bytes = Arrays.copyOf(bytes, Math.max(needed, bytes.length * 2));
    }

    /** A copy of the current contents. */
    public synchronized byte[] toByteArray() { return Arrays.copyOf(bytes, (int) length); }

    @Override public void close() { }
}
