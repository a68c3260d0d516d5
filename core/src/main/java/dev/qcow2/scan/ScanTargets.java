package dev.qcow2.scan;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * The files a local scan looks at: each command-line argument that is not a directory (named:
 * reported even when it is not qcow2), and every regular file or symbolic link under each
 * directory argument, recursively and in name order (not named: skipped unless qcow2).
 * Directory links are not followed (no loops); FIFOs, sockets and devices under a directory are
 * skipped (reading one could block).
 */
public final class ScanTargets {
    /** One file to scan; {@code named} when the user gave it. */
    public record Target(String path, boolean named) implements java.io.Serializable { }

    private ScanTargets() { }

    public static List<Target> local(List<String> args) throws IOException {
        List<Target> out = new ArrayList<>();
        for (String arg : args) {
            Path p = Path.of(arg);
            if (!Files.isDirectory(p)) {
                out.add(new Target(arg, true));
                continue;
            }
            List<Path> found = new ArrayList<>();
            Files.walkFileTree(p, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (attrs.isRegularFile() || attrs.isSymbolicLink()) found.add(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    found.add(file);   // an unreadable directory or entry: its record says why
                    return FileVisitResult.CONTINUE;
                }
            });
            found.sort(null);
            for (Path f : found) {
                // a link to a directory was not followed: its files are not scanned twice
                if (Files.isSymbolicLink(f) && Files.isDirectory(f)) continue;
                out.add(new Target(f.toString(), false));
            }
        }
        return out;
    }
}
