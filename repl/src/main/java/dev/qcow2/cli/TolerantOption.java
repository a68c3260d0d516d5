package dev.qcow2.cli;

import dev.qcow2.format.HeaderContradiction;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.image.Qcow2Image;
import picocli.CommandLine.Option;

import java.io.PrintWriter;

/**
 * {@code --tolerant}: evidence reading of an image whose header contradicts itself (LUKS without
 * its crypto header, the data-file bit without a data-file name, ...). By default such an image
 * is refused as qemu-img refuses it ({@link HeaderContradiction}); with this option the reading
 * commands open it anyway, read as if the header did not make the broken promise, and print one
 * line per contradiction ignored on stderr, so the output is never mistaken for a clean read.
 */
final class TolerantOption {
    @Option(names = "--tolerant",
            description = "Read an image whose header contradicts itself (qemu-img refuses it) as evidence: "
                    + "each contradiction is read past and named on stderr.")
    boolean on;

    OpenOptions apply(OpenOptions options) { return options.withTolerant(on); }

    /** One stderr line per contradiction the open of {@code device} ignored (a Qcow2Image; other devices have none). */
    static void reportIgnored(BlockDevice device, PrintWriter err) {
        if (!(device instanceof Qcow2Image img)) return;
        for (HeaderContradiction c : img.ignoredContradictions()) {
            err.println("qcow2: " + img.describe() + ": tolerant: " + c.ignored() + " [qemu-img: " + c.message() + "]");
        }
        err.flush();
    }
}
