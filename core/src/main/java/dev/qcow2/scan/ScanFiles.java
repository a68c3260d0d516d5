package dev.qcow2.scan;

import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where {@link ImageScan} finds files: the local file system ({@link LocalScanFiles}) or any
 * other (the spark module's Hadoop file systems). Paths are the strings the records show.
 */
public interface ScanFiles {
    /**
     * {@code path} opened for reading only. Fails with a one-line message for a missing file, a
     * directory, or anything that is not a regular file (a FIFO would block the scan).
     */
    Storage open(String path) throws IOException;

    /** Whether {@code path} names a readable regular file (backing files are "resolved" when it does). */
    boolean exists(String path);

    /**
     * The local path of {@code path}, when the file is on the local file system: backing chains
     * are read through {@link dev.qcow2.image.Qcow2Image}'s own (local) resolution, so guest
     * content of a layered image can be hashed only there.
     */
    Optional<Path> localPath(String path);
}
