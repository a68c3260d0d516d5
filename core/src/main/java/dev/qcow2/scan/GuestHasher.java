package dev.qcow2.scan;

import dev.qcow2.image.BlockDevice;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Digests of a disk's whole guest content (what {@code qemu-img convert -O raw} writes, so
 * {@code sha256sum} of that export gives the same value), several algorithms in one sequential
 * pass of {@link #CHUNK}-byte reads: memory is one chunk, whatever the disk size.
 */
public final class GuestHasher {
    /** Bytes per read: large enough that a read spans many clusters, small enough to stay in cache. */
    public static final int CHUNK = 4 << 20;

    private GuestHasher() { }

    /** Reads {@code length} bytes at {@code offset} into {@code buf[0..length)}. */
    @FunctionalInterface
    public interface Reader {
        void read(long offset, byte[] buf, int length) throws IOException;
    }

    /** Every guest byte of {@code device}, through its backing chain. */
    public static Map<String, String> hash(BlockDevice device, List<String> algorithms) throws IOException {
        return hash(device.size(), (off, buf, len) -> device.read(off, buf, 0, len), algorithms);
    }

    /** Every byte of {@code storage} (a raw file's guest content). */
    public static Map<String, String> hash(Storage storage, List<String> algorithms) throws IOException {
        return hash(storage.size(), (off, buf, len) -> storage.readFully(off, ByteBuffer.wrap(buf, 0, len)), algorithms);
    }

    /** {@code algorithm -> lower-case hex digest} of bytes {@code [0, size)} read through {@code reader}. */
    public static Map<String, String> hash(long size, Reader reader, List<String> algorithms) throws IOException {
        List<MessageDigest> digests = new ArrayList<>(algorithms.size());
        for (String a : algorithms) digests.add(ScanOptions.digest(a));
        byte[] buf = new byte[(int) Math.min(CHUNK, Math.max(size, 1))];
        for (long at = 0; at < size; ) {
            int n = (int) Math.min(buf.length, size - at);
            reader.read(at, buf, n);
            for (MessageDigest d : digests) d.update(buf, 0, n);
            at += n;
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < algorithms.size(); i++) out.put(algorithms.get(i), HexFormat.of().formatHex(digests.get(i).digest()));
        return out;
    }
}
