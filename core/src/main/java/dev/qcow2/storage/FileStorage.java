package dev.qcow2.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file opened with {@link StandardOpenOption#READ} only: the operating system itself refuses
 * any write, so inspecting an image cannot change one byte of it.
 */
public final class FileStorage implements Storage {
    private final Path path;
    private final String name;
    private final FileChannel channel;
    /** O_RDONLY, for lseek(SEEK_DATA/SEEK_HOLE) and fstat; opened on first use (see NativeDescriptor). */
    private final NativeDescriptor nativeDescriptor;

    private FileStorage(Path path, String name, FileChannel channel) {
        this.path = path;
        this.name = name;
        this.channel = channel;
        this.nativeDescriptor = new NativeDescriptor(path, false);
    }

    /**
     * Starts linking, on a daemon thread, the libc calls that opening an image file makes, so a
     * short-lived process overlaps that one-time cost (~25 ms) with its other start-up work.
     * Optional: without it the calls are linked on first use.
     */
    public static void prelinkNativeCalls() { Libc.prelink(); }

    public static FileStorage openReadOnly(Path path) throws IOException {
        return new FileStorage(path, path.toString(), FileChannel.open(path, StandardOpenOption.READ));
    }

    public Path path() { return path; }

    @Override public String describe() { return name; }

    @Override public long size() throws IOException { return channel.size(); }

    @Override
    public void readFully(long offset, ByteBuffer dst) throws IOException {
        Storage.readFully(channel, name, offset, dst);
    }

    @Override
    public long allocatedBytes() throws IOException {
        if (!channel.isOpen()) throw new java.nio.channels.ClosedChannelException();
        return AllocatedBytes.of(nativeDescriptor, path);
    }

    @Override
    public HostRun hostRun(long offset, long length) throws IOException {
        if (!channel.isOpen()) throw new java.nio.channels.ClosedChannelException();
        return HoleFinder.run(this, nativeDescriptor, offset, length);
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            nativeDescriptor.close();
        }
    }
}
