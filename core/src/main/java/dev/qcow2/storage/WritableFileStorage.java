package dev.qcow2.storage;

import dev.qcow2.Qcow2Exception;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file opened for reading and writing, holding the image's write lock for as long as it is
 * open, as QEMU's byte locks ({@link ImageLock}): one writer at a time, qemu's included; readers
 * that open read-only take no lock.
 */
public final class WritableFileStorage implements WritableStorage {
    private final Path path;
    private final String name;
    /** Kept for {@link RandomAccessFile#setLength}: ftruncate, which also grows a file sparsely. */
    private final RandomAccessFile file;
    private final FileChannel channel;
    private final ImageLock lock;
    /** O_RDWR, for QEMU's byte locks (ImageLock), fallocate, lseek and fstat; closed last: the byte locks go with it. */
    private final NativeDescriptor nativeDescriptor;

    private WritableFileStorage(Path path, RandomAccessFile file, ImageLock lock, NativeDescriptor descriptor) {
        this.path = path;
        this.name = path.toString();
        this.file = file;
        this.channel = file.getChannel();
        this.lock = lock;
        this.nativeDescriptor = descriptor;
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
        if (!create && !Files.exists(path)) throw new NoSuchFileException(path.toString());   // "rw" would create it
        // one descriptor for everything: closing a second one on the same file would drop the lock (fcntl)
        RandomAccessFile file;
        try {
            file = new RandomAccessFile(path.toFile(), "rw");
        } catch (FileNotFoundException e) {
            // RandomAccessFile names every failure FileNotFoundException; NIO says which (permission, directory...)
            FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE).close();
            throw e;
        }
        NativeDescriptor descriptor = new NativeDescriptor(path, true);
        ImageLock lock;
        try {
            lock = ImageLock.acquire(path, file.getChannel(), descriptor);
        } catch (IOException | RuntimeException e) {
            try {
                file.close();
            } finally {
                descriptor.close();
            }
            throw e;
        }
        if (create) file.setLength(0);
        return new WritableFileStorage(path, file, lock, descriptor);
    }

    /**
     * Refuses, with QEMU's words, to read {@code path} while another process (or another open of
     * this one) holds it for writing: what qemu-img's read-only commands do without
     * {@code -U}/{@code --force-share} ({@link ImageLock#refuseBesideWriter}).
     */
    public static void refuseReadingBesideWriter(Path path) throws IOException {
        ImageLock.refuseBesideWriter(path);
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
        try {
            while (src.hasRemaining()) position += channel.write(src, position);
        } catch (IOException e) {
            throw Storage.failure(name, "write", e);
        }
    }

    @Override
    public void flush() throws IOException {
        try {
            channel.force(false);
        } catch (IOException e) {
            throw Storage.failure(name, "flush", e);
        }
    }

    @Override
    public void setLength(long length) throws IOException {
        // ftruncate: shrinking cuts, growing adds a hole (no block is allocated, as QEMU's file driver)
        try {
            if (length != channel.size()) file.setLength(length);
        } catch (IOException e) {
            throw Storage.failure(name, "truncate", e);
        }
    }

    @Override
    public long allocatedBytes() throws IOException {
        ensureOpen();
        return AllocatedBytes.of(nativeDescriptor, path);
    }

    @Override
    public HostRun hostRun(long offset, long length) throws IOException {
        ensureOpen();
        return HoleFinder.run(this, nativeDescriptor, offset, length);
    }

    @Override
    public void growAllocated(long newLength) throws IOException {
        ensureOpen();
        Fallocate.growAllocated(this, nativeDescriptor, newLength);
    }

    @Override
    public boolean punchHole(long offset, long length) throws IOException {
        ensureOpen();
        return Fallocate.punchHole(this, nativeDescriptor, offset, length);
    }

    private void ensureOpen() throws IOException {
        if (!channel.isOpen()) throw new java.nio.channels.ClosedChannelException();
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            try {
                file.close();
            } finally {
                nativeDescriptor.close();     // after the lock: closing it drops the process's fcntl locks
            }
        }
    }
}
