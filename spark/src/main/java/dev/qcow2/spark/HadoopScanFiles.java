package dev.qcow2.spark;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.scan.LocalScanFiles;
import dev.qcow2.scan.ScanFiles;
import dev.qcow2.storage.Storage;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.nio.file.Files;
import java.util.Map;
import java.util.Optional;

/**
 * {@link ScanFiles} over Hadoop file systems, shipped to the executors (the driver's Hadoop
 * settings travel as a plain map; each executor builds its Configuration once). Paths are the
 * record's strings: a path without a scheme is a local file (it shows as the user typed it, as in
 * a local scan), anything else a Hadoop URI (hdfs://…, s3a://…).
 */
final class HadoopScanFiles implements ScanFiles, Serializable {
    private final Map<String, String> settings;
    private transient Configuration conf;

    HadoopScanFiles(Map<String, String> settings) { this.settings = Map.copyOf(settings); }

    private synchronized Configuration conf() {
        if (conf == null) {
            conf = new Configuration(false);
            settings.forEach(conf::set);
        }
        return conf;
    }

    /** Whether {@code path} is a local file name (no URI scheme, or {@code file:}). */
    static boolean isLocal(String path) {
        int colon = path.indexOf(':');
        int slash = path.indexOf('/');
        return colon < 0 || (slash >= 0 && slash < colon) || path.startsWith("file:");
    }

    /** The Hadoop path of a record's path: local names as absolute file: URIs. */
    static Path hadoopPath(String path) {
        if (path.startsWith("file:")) return new Path(path);
        if (isLocal(path)) return new Path(java.nio.file.Path.of(path).toAbsolutePath().toUri());
        return new Path(URI.create(path));
    }

    private FileStatus status(String path) throws IOException {
        Path p = hadoopPath(path);
        FileSystem fs = p.getFileSystem(conf());
        try {
            return fs.getFileStatus(p);
        } catch (FileNotFoundException e) {
            throw new Qcow2Exception(path, "No such file or directory");
        }
    }

    @Override
    public Storage open(String path) throws IOException {
        if (isLocal(path) && !path.startsWith("file:")) {
            // the same refusals as a local scan, before Hadoop's local FS opens a FIFO and blocks
            java.nio.file.Path local = java.nio.file.Path.of(path);
            if (Files.isDirectory(local)) throw new Qcow2Exception(path, "Is a directory");
            if (!Files.exists(local)) throw new Qcow2Exception(path, "No such file or directory");
            if (!Files.isRegularFile(local)) throw new Qcow2Exception(path, "not a regular file");
        }
        FileStatus status = status(path);
        if (status.isDirectory()) throw new Qcow2Exception(path, "Is a directory");
        if (!status.isFile()) throw new Qcow2Exception(path, "not a regular file");
        Path p = status.getPath();
        return HadoopStorage.open(p.getFileSystem(conf()), status, path);
    }

    @Override
    public boolean exists(String path) {
        if (isLocal(path) && !path.startsWith("file:")) return LocalScanFiles.INSTANCE.exists(path);
        try {
            return status(path).isFile();
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public Optional<java.nio.file.Path> localPath(String path) {
        if (path.startsWith("file:")) return Optional.of(java.nio.file.Path.of(URI.create(path)));
        return isLocal(path) ? Optional.of(java.nio.file.Path.of(path)) : Optional.empty();
    }
}
