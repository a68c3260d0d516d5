package dev.qcow2.image;

import dev.qcow2.ImageLimitException;
import dev.qcow2.Qcow2Exception;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.storage.FileStorage;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * Resolves and opens the files an image names: its backing file (a chain of at most 64 links,
 * without loops) and its external data file. Names are resolved as QEMU's path_combine: relative
 * names against the directory of the image that names them. Every name passes the open's
 * {@link FollowPolicy} before its file is touched.
 */
public final class BackingChain {
    private BackingChain() { }

    /**
     * The backing file as the image names it.
     *
     * @param name         the name recorded in the header
     * @param fullName     resolved as QEMU's path_combine (what qemu-img shows as full-backing-filename)
     * @param format       the format recorded in the backing-format extension, or null
     * @param device       the opened backing device, or null when not followed
     */
    public record Link(String name, String fullName, String format, BlockDevice device) {
        /** The backing file's path: {@code fullName}, or the file a {@code json:} name names. */
        public Path filePath() throws Qcow2Exception {
            BackingName parsed = BackingName.parse(null, name);
            return Path.of(parsed.json() ? parsed.fileName() : fullName);
        }
    }

    /** Real paths already open in this chain, for loop detection. */
    static final class Visited {
        private final Set<Path> paths = new HashSet<>();
        private int depth;
    }

    /** QEMU's path_combine: an absolute name as is, else relative to the directory part of {@code base}. */
    public static String pathCombine(String base, String name) {
        if (name.startsWith("/")) return name;
        int slash = base == null ? -1 : base.lastIndexOf('/');
        return slash < 0 ? name : base.substring(0, slash + 1) + name;
    }

    static Qcow2Image openQcow2(Path path, OpenOptions options, Visited visited) throws IOException {
        enter(path, visited);
        return Qcow2Image.open(openFile(path, null), path, options, visited);
    }

    private static void enter(Path path, Visited visited) throws IOException {
        if (++visited.depth > OpenOptions.MAX_CHAIN_DEPTH) {
            throw new ImageLimitException(path.toString(), "backing chain is deeper than " + OpenOptions.MAX_CHAIN_DEPTH + " images");
        }
        Path real;
        try {
            real = path.toRealPath();
        } catch (IOException e) {
            real = path.toAbsolutePath().normalize();
        }
        if (!visited.paths.add(real)) {
            throw new Qcow2Exception(path.toString(), "Backing file '" + path + "' creates an infinite loop.");
        }
    }

    static Storage openFile(Path path, String role) throws IOException {
        try {
            return FileStorage.openReadOnly(path);
        } catch (NoSuchFileException e) {
            throw new Qcow2Exception(null, prefix(role) + "Could not open '" + path + "': No such file or directory");
        } catch (java.nio.file.AccessDeniedException e) {
            throw new Qcow2Exception(null, prefix(role) + "Could not open '" + path + "': Permission denied");
        } catch (IOException e) {
            throw new Qcow2Exception(null, prefix(role) + "Could not open '" + path + "': " + e.getMessage());
        }
    }

    private static String prefix(String role) { return role == null ? "" : role + ": "; }

    static Link openBacking(Storage storage, Path imagePath, Qcow2Header header, OpenOptions options, Visited visited)
            throws IOException {
        String name = header.backingFileName();
        if (name == null) return null;
        String res = storage.describe();
        // a json: name is used as it is, also as the full name (QEMU's bdrv_make_absolute_filename)
        String fullName = BackingName.isJson(name) ? name : pathCombine(imagePath == null ? null : imagePath.toString(), name);
        String format = header.backingFormat().orElse(null);
        if (!options.followBacking() || !options.follow().follows()) return new Link(name, fullName, format, null);
        // parsed only when followed: an image whose json: name is bad still opens for inspection
        BackingName parsed = BackingName.parse(res, name);
        Path backingPath = Path.of(parsed.json() ? parsed.fileName() : fullName);
        // the gate, before anything of the file is touched (not even probed)
        options.follow().check(res, "backing file", backingPath);
        String fmt = options.backingFormat() != null ? options.backingFormat() : format != null ? format : parsed.driver().orElse(null);
        if (fmt == null) fmt = probe(backingPath);
        BlockDevice device;
        try {
            if ("qcow2".equals(fmt)) {
                // the backing layer sees the chain's secrets one level down, with its json: name's key-secret
                OpenOptions below = options.withFollowBacking(!parsed.noBacking())
                        .withSecrets(LayerSecrets.below(options.secrets(), parsed.keySecretId()));
                device = openQcow2(backingPath, below, visited);
                try {
                    parsed.requireEncryptFormat(backingPath.toString(), device);
                } catch (Qcow2Exception e) {
                    device.close();
                    throw e;
                }
            } else if ("raw".equals(fmt)) {
                enter(backingPath, visited);
                device = new RawImage(openFile(backingPath, null));
            } else {
                throw new Qcow2Exception(null, "Unknown driver '" + fmt + "'");
            }
        } catch (FollowRefusedException e) {
            throw e;   // a layer further down names a file the policy refuses: said as it is
        } catch (Qcow2Exception e) {
            String msg = e.getMessage();
            if (msg.contains("Could not open backing file")) throw new Qcow2Exception(res, msg.substring(msg.indexOf("Could not open backing file")), e);
            throw new Qcow2Exception(res, "Could not open backing file: " + msg, e);
        }
        return new Link(name, fullName, format, device);
    }

    /** Format probing, as QEMU does when no backing format is recorded: qcow2 magic, else raw. */
    static String probe(Path path) throws IOException {
        try (Storage s = openFile(path, "Could not open backing file")) {
            if (s.size() < 4) return "raw";
            ByteBuffer magic = ByteBuffer.allocate(4);
            s.readFully(0, magic);
            return magic.getInt(0) == Qcow2Header.MAGIC ? "qcow2" : "raw";
        }
    }

    static Storage openDataFile(Storage storage, Path imagePath, Qcow2Header header, OpenOptions options) throws IOException {
        if (!header.hasExternalDataFile()) return storage;
        String name = header.externalDataFile().orElse(null);
        if (name == null) {
            return new UnopenedStorage(storage.describe(), "'data-file' is required for this image");
        }
        String full = pathCombine(imagePath == null ? null : imagePath.toString(), name);
        if (!options.openDataFile() || !options.follow().follows()) {
            return new UnopenedStorage(full, "external data file not opened (not permitted by the open options)");
        }
        Path p = Path.of(full);
        // the gate before the file system is asked anything about the name
        options.follow().check(storage.describe(), "data file", p);
        Path cwd = Path.of(name);
        if (!Files.exists(p) && options.follow().allows(cwd) && Files.exists(cwd)) p = cwd;
        return openFile(p, storage.describe() + ": Could not open data file");
    }

    /** Stands in for a data file that is required but could not be or was not opened: reads fail clearly. */
    static final class UnopenedStorage implements Storage {
        private final String name;
        private final String reason;

        UnopenedStorage(String name, String reason) {
            this.name = name;
            this.reason = reason;
        }

        @Override public String describe() { return name; }
        @Override public long size() throws IOException { throw new Qcow2Exception(name, reason); }
        @Override public void readFully(long offset, ByteBuffer dst) throws IOException { throw new Qcow2Exception(name, reason); }
        @Override public void close() { }
    }
}
