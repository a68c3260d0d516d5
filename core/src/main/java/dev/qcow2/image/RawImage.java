package dev.qcow2.image;

import dev.qcow2.storage.FileStorage;
import dev.qcow2.storage.Storage;
import dev.qcow2.units.GuestOffset;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;

/** A raw disk image: guest offset = file offset; the size is the file's size. */
public final class RawImage implements BlockDevice {
    private final Storage storage;
    private final long size;

    public RawImage(Storage storage) throws IOException {
        this.storage = storage;
        // QEMU measures a raw disk in whole 512-byte sectors; the tail past EOF reads as zeros.
        this.size = (storage.size() + 511) & ~511L;
    }

    public static RawImage open(Path path) throws IOException {
        return new RawImage(FileStorage.openReadOnly(path));
    }

    public Storage storage() { return storage; }

    @Override public String describe() { return storage.describe(); }

    @Override public long size() { return size; }

    @Override
    public void read(GuestOffset guestOffset, byte[] buf, int bufOffset, int length) throws IOException {
        storage.readFully(guestOffset.value(), ByteBuffer.wrap(buf, bufOffset, length));
    }

    /** Straight into {@code dst} (a direct buffer is filled by the kernel, no copy). */
    @Override
    public void read(GuestOffset guestOffset, ByteBuffer dst) throws IOException {
        storage.readFully(guestOffset.value(), dst);
    }

    @Override
    public BlockStatus blockStatus(GuestOffset guestOffset, long maxLength) {
        long at = guestOffset.value();
        long length = Math.min(maxLength, size - at);
        return new BlockStatus(at, length, true, false, true, false, at);
    }

    @Override public Optional<BlockDevice> backing() { return Optional.empty(); }

    @Override public String format() { return "raw"; }

    @Override public void close() throws IOException { storage.close(); }
}
