package dev.qcow2.image;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Which files named <em>inside</em> an image are opened: its backing file (also the file of a
 * {@code json:} backing name) and its external data file, at every layer of a chain. Such names
 * are attacker-controlled for an examiner (a guest can write a qcow2 header into its own raw disk
 * that names any host file), so the one rule of every front end is:
 * <ul>
 *   <li>{@link Within} (the default): a name is followed when the file it resolves to — after
 *       QEMU's path_combine, normalisation and symlink resolution ({@code toRealPath}) — lies in
 *       the directory tree of the <em>top</em> image (the one the user opened; every layer of a
 *       chain is checked against that same directory, not against the layer that names it), or
 *       under one of the directories the user allowed ({@code --allow-backing=DIR},
 *       {@code follow: 'DIR'}). Anything else is refused with a {@link FollowRefusedException}
 *       and not opened (not even probed).
 *   <li>{@link Anything}: every name is followed, as qemu-img does ({@code --allow-backing=any}).
 *   <li>{@link Nothing}: no name is followed; the image is read alone ({@code follow: 'none'}).
 * </ul>
 * Files the user names (the image operands, {@code -b} of create/rebase/commit) are not gated:
 * a file the user names starts a tree of its own ({@link #anchoredAt}).
 */
public sealed interface FollowPolicy {

    /** Follow nothing named inside an image. */
    record Nothing() implements FollowPolicy { }

    /** Follow every name, as qemu-img does. */
    record Anything() implements FollowPolicy { }

    /**
     * Follow names inside {@code root} (the real path of the top image's directory; null until
     * {@link #anchoredAt} binds it) or under one of {@code allowed}.
     */
    record Within(Path root, List<Path> allowed) implements FollowPolicy {
        public Within {
            allowed = List.copyOf(allowed);
        }
    }

    /** The default: the top image's own directory tree. */
    static FollowPolicy imageTree() { return new Within(null, List.of()); }

    /** The image tree plus {@code dirs}. */
    static FollowPolicy allowing(List<Path> dirs) {
        List<Path> real = new ArrayList<>();
        for (Path d : dirs) real.add(real(d));
        return new Within(null, real);
    }

    static FollowPolicy any() { return new Anything(); }

    /**
     * The policy the words of the front ends give: no word = the image tree; {@code any} (among
     * them) = {@link Anything}; {@code none} = {@link Nothing}; other words are directories allowed
     * besides the image tree ({@code --allow-backing=DIR}, repeatable; {@code follow: '/dir'}).
     */
    static FollowPolicy parse(List<String> words) {
        if (words.contains("any")) return any();
        if (words.contains("none")) {
            if (words.size() > 1) throw new IllegalArgumentException("follow 'none' cannot be combined with directories: " + words);
            return none();
        }
        List<Path> dirs = new ArrayList<>();
        for (String w : words) {
            if (w.isBlank()) throw new IllegalArgumentException("an empty directory to allow (use 'any' to follow everything)");
            dirs.add(Path.of(w));
        }
        return allowing(dirs);
    }

    static FollowPolicy none() { return new Nothing(); }

    /** Whether names are followed at all. */
    default boolean follows() { return !(this instanceof Nothing); }

    /**
     * This policy for a chain whose top image is {@code topImage}: a {@link Within} without a
     * root gets the real path of the image's directory. A policy already anchored keeps its root
     * (the layers below the top are checked against the top's directory).
     */
    default FollowPolicy anchoredAt(Path topImage) {
        if (!(this instanceof Within(Path root, List<Path> allowed)) || root != null || topImage == null) return this;
        Path dir = topImage.toAbsolutePath().getParent();
        return new Within(dir == null ? null : real(dir), allowed);
    }

    /** The same allowances, re-anchored at {@code userNamed} (a file the user named starts a tree of its own). */
    default FollowPolicy reanchoredAt(Path userNamed) {
        if (!(this instanceof Within(Path root, List<Path> allowed))) return this;
        return new Within(null, allowed).anchoredAt(userNamed);
    }

    /**
     * Refuses {@code file} (a name read from {@code namedBy}, resolved as it would be opened) when
     * this policy does not follow it.
     *
     * @param role "backing file" or "data file"
     */
    default void check(String namedBy, String role, Path file) throws FollowRefusedException {
        switch (this) {
            case Anything a -> { }
            case Nothing n -> throw new FollowRefusedException(namedBy, role, file, real(file), List.of(), true);
            case Within w -> {
                Path target = real(file);
                if (w.root() != null && target.startsWith(w.root())) return;
                for (Path dir : w.allowed()) {
                    if (target.startsWith(dir)) return;
                }
                List<Path> inside = new ArrayList<>();
                if (w.root() != null) inside.add(w.root());
                inside.addAll(w.allowed());
                throw new FollowRefusedException(namedBy, role, file, target, inside, false);
            }
        }
    }

    /** Whether {@link #check} would let {@code file} be opened. */
    default boolean allows(Path file) {
        try {
            check("", "file", file);
            return true;
        } catch (FollowRefusedException e) {
            return false;
        }
    }

    /** What {@code --allow-backing} / {@code follow:} print for this policy. */
    default String describe() {
        return switch (this) {
            case Anything a -> "any";
            case Nothing n -> "none";
            case Within w -> w.allowed().isEmpty() ? "the image's directory"
                    : "the image's directory, " + w.allowed().stream().map(Path::toString).collect(Collectors.joining(", "));
        };
    }

    /**
     * The file a name leads to: its real path (symlinks resolved) when it exists, else the
     * normalised absolute path with the real path of its nearest existing parent (a symlinked
     * directory above a missing file still counts where it leads).
     */
    static Path real(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        try {
            return abs.toRealPath();
        } catch (IOException e) {
            Path parent = abs.getParent();
            if (parent == null || parent.equals(abs)) return abs;
            return real(parent).resolve(abs.getFileName());
        }
    }
}
