package dev.qcow2.image;

import dev.qcow2.Qcow2Exception;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A file named inside an image that the {@link FollowPolicy} does not let be opened. The message
 * names the image that named it, the file, and why: {@code /ev/a.qcow2: backing file /etc/shadow
 * is outside /ev (not opened)}; each front end appends how to allow it in its own words
 * ({@link dev.qcow2.ErrorLine.Hints#allowFollow}), with {@link #allowDirectory()}.
 */
public final class FollowRefusedException extends Qcow2Exception {
    private final Path file;
    private final Path target;

    FollowRefusedException(String namedBy, String role, Path file, Path target, List<Path> inside, boolean followNothing) {
        super(namedBy, role + " " + file + (target.toString().equals(file.toString()) ? "" : " (-> " + target + ")")
                + (followNothing ? " is not followed (not opened)"
                : inside.isEmpty() ? " is not inside an allowed directory (not opened)"
                : " is outside " + inside.stream().map(Path::toString).collect(Collectors.joining(", ")) + " (not opened)"));
        this.file = file;
        this.target = target;
    }

    /** The name as it would have been opened. */
    public Path file() { return file; }

    /** Where it leads (symlinks resolved). */
    public Path target() { return target; }

    /** The directory to allow to open it: the directory of {@link #target()}. */
    public Path allowDirectory() {
        Path dir = target.getParent();
        return dir == null ? target : dir;
    }
}
