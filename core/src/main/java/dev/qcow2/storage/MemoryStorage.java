package dev.qcow2.storage;

import java.io.IOException;
import java.nio.ByteBuffer;

/** An in-memory, read-only storage over a byte array; for tests and for small embedded images. */
public final class MemoryStorage implements Storage {
    private final String name;
    private final byte[] bytes;

    public MemoryStorage(String name, byte[] bytes) {
        this.name = name;
        this.bytes = bytes;
    }

    @Override public String describe() { return name; }

    @Override public long size() { return bytes.length; }

    @Override
    public void readFully(long offset, ByteBuffer dst) throws IOException {
        Storage.checkRange(name, offset, dst.remaining());
        while (dst.hasRemaining()) {
            if (offset >= bytes.length) {
                dst.put((byte) 0);
            } else {
                int n = (int) Math.min(dst.remaining(), bytes.length - offset);
                dst.put(bytes, (int) offset, n);
                offset += n;
            }
        }
    }

    @Override public void close() { }
}
