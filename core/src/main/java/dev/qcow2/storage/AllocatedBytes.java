package dev.qcow2.storage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Bytes a file occupies on its file system (st_blocks * 512), QEMU's "disk size"
 * (file-posix raw_get_allocated_file_size). Native: fstat on the storage's descriptor.
 * Fallback: coreutils {@code stat -c '%b %B'} (the JDK exposes no st_blocks), or -1.
 */
public final class AllocatedBytes {
    private AllocatedBytes() { }

    static long of(NativeDescriptor descriptor, Path path) throws IOException {
        Optional<NativeDescriptor.Open> open = descriptor.open();
        if (open.isPresent()) {
            NativeDescriptor.Open f = open.get();
            try {
                return f.libc().stBlocks(f.fd(), f.path()) * 512;
            } catch (Libc.NativeCallException e) {
                // fall through to stat(1)
            }
        }
        return statBlocks(path);
    }

    /** st_blocks * 512 via coreutils stat, or -1 if unavailable. */
    public static long statBlocks(Path path) {
        try {
            Process p = new ProcessBuilder("stat", "-L", "-c", "%b %B", "--", path.toString())
                    .redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
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
}
