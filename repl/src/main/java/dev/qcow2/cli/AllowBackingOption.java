package dev.qcow2.cli;

import dev.qcow2.image.FollowPolicy;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.write.WriteOptions;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code --allow-backing=DIR|any}: the open gate ({@link FollowPolicy}) of every command that
 * follows the files named inside an image (backing files, external data files, {@code json:}
 * backing names). Without it a name is followed only when it resolves (symlinks too) inside the
 * directory of the image named on the command line; {@code DIR} (repeatable) allows one more
 * directory tree, {@code any} allows everything (qemu-img's behaviour). Files named on the command
 * line ({@code -b}, rebase's target) are the user's own and never gated.
 */
final class AllowBackingOption {
    @Option(names = "--allow-backing", paramLabel = "DIR|any", descriptionKey = "allow-backing",
            description = "Also open backing/data files named inside the image that lead into DIR (repeatable); "
                    + "'any' opens every name, as qemu-img does. Default: only names inside the image's own directory.")
    List<String> dirs = new ArrayList<>();

    /** The policy the option gives. */
    FollowPolicy policy() {
        try {
            FollowPolicy p = FollowPolicy.parse(dirs);
            if (p instanceof FollowPolicy.Nothing) throw new IllegalArgumentException("use a directory or 'any'");
            return p;
        } catch (IllegalArgumentException e) {
            throw new Errors.CliException("--allow-backing: " + e.getMessage());
        }
    }

    OpenOptions apply(OpenOptions options) { return options.withFollow(policy()); }

    WriteOptions apply(WriteOptions options) { return options.withFollow(policy()); }

    /** The option as given, for a child process (the Spark scan job). */
    List<String> words() { return List.copyOf(dirs); }
}
