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

    private FileStorage(Path path, String name, FileChannel channel) {
        this.path = path;
        this.name = name;
        this.channel = channel;
    }

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
    public long allocatedBytes() {
        // JDK 17's "unix" attribute view has no st_blocks, so coreutils stat(1) is asked.
        return statBlocks(path);
    }

    /** st_blocks * 512 via coreutils stat (the JDK exposes no st_blocks), or -1 if unavailable. */
    static long statBlocks(Path path) {
        try {
            Process p = new ProcessBuilder("stat", "-L", "-c", "%b %B", "--", path.toString())
                    .redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).trim();
            if (p.waitFor() != 0) return -1;
            String[] parts = out.split(" ");
            return Long.parseLong(parts[0]) * Long.parseLong(parts[1]);
        } catch (IOException | NumberFormatException | ArrayIndexOutOfBoundsException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    @Override public void close() throws IOException { channel.close(); }
}
