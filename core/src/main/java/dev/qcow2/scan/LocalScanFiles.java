package dev.qcow2.scan;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.storage.FileStorage;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/** {@link ScanFiles} on the local file system: read-only {@link FileStorage}s. */
public final class LocalScanFiles implements ScanFiles {
    public static final LocalScanFiles INSTANCE = new LocalScanFiles();

    private LocalScanFiles() { }

    @Override
    public Storage open(String path) throws IOException {
        Path p = Path.of(path);
        // FileStorage would block opening a FIFO until a writer appears: refuse anything not regular
        if (Files.isDirectory(p)) throw new Qcow2Exception(path, "Is a directory");
        if (!Files.exists(p)) throw new Qcow2Exception(path, "No such file or directory");
        if (!Files.isRegularFile(p)) throw new Qcow2Exception(path, "not a regular file");
        try {
            return FileStorage.openReadOnly(p);
        } catch (NoSuchFileException e) {
            throw new Qcow2Exception(path, "No such file or directory");
        } catch (AccessDeniedException e) {
            throw new Qcow2Exception(path, "Permission denied");
        }
    }

    @Override
    public boolean exists(String path) {
        Path p = Path.of(path);
        return Files.isRegularFile(p) && Files.isReadable(p);
    }

    @Override
    public Optional<Path> localPath(String path) { return Optional.of(Path.of(path)); }
}
