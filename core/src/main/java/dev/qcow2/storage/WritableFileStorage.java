package dev.qcow2.storage;

import dev.qcow2.Qcow2Exception;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file opened for reading and writing, holding an exclusive lock for as long as it is open:
 * one writer at a time (readers that open read-only are not blocked by the OS; writers are).
 */
public final class WritableFileStorage implements WritableStorage {
    private final Path path;
    private final String name;
    private final FileChannel channel;
    private final FileLock lock;

    private WritableFileStorage(Path path, FileChannel channel, FileLock lock) {
        this.path = path;
        this.name = path.toString();
        this.channel = channel;
        this.lock = lock;
    }

    /** Opens an existing file for writing; fails clearly if another writer holds it. */
    public static WritableFileStorage open(Path path) throws IOException {
        return open(path, false);
    }

    /** Creates (or truncates) a file and opens it for writing. */
    public static WritableFileStorage create(Path path) throws IOException {
        return open(path, true);
    }

    private static WritableFileStorage open(Path path, boolean create) throws IOException {
        FileChannel ch = create
                ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE,
                        StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING)
                : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            ch.close();
            throw new Qcow2Exception(path.toString(), "Failed to get \"write\" lock (is another process using the image?)");
        }
        return new WritableFileStorage(path, ch, lock);
    }

    public Path path() { return path; }

    @Override public String describe() { return name; }

    @Override public long size() throws IOException { return channel.size(); }

    @Override
    public void readFully(long offset, ByteBuffer dst) throws IOException {
        Storage.readFully(channel, name, offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        Storage.checkRange(name, offset, src.remaining());
        long position = offset;
        while (src.hasRemaining()) position += channel.write(src, position);
    }

    @Override public void flush() throws IOException { channel.force(false); }

    /** Positional writes of a FileChannel (pwrite) are safe from several threads. */
    @Override public boolean concurrentWrites() { return true; }

    @Override
    public void setLength(long length) throws IOException {
        long current = channel.size();
        if (length < current) {
            channel.truncate(length);
        } else if (length > current) {
            // FileChannel cannot extend without writing; a single zero byte at the end keeps it sparse.
            channel.write(ByteBuffer.allocate(1), length - 1);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            if (lock.isValid()) lock.release();
        } finally {
            channel.close();
        }
    }
}
