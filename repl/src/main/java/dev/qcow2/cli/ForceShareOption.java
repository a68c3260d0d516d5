package dev.qcow2.cli;

import picocli.CommandLine.Option;

/**
 * {@code -U, --force-share}: qemu-img's "open in shared mode". Without it a read-only command is
 * refused, with qemu-img's words, while another process holds the image for writing
 * ({@link #refuseBesideWriter}); with it the image is read anyway. Our read-only opens take no
 * lock either way. Snapshot refuses it for changes, as qemu-img does. Help text per command:
 * {@link OptionTexts} (key {@code force-share}).
 */
final class ForceShareOption {
    @Option(names = {"-U", "--force-share"}, descriptionKey = "force-share",
            description = "Accepted for qemu-img compatibility.")
    boolean on;

    /** Without -U: refused while a qemu (or our) writer holds {@code image} ("Failed to get shared "write" lock"). */
    void refuseBesideWriter(ImageArg image) throws java.io.IOException {
        if (!on && image.file() != null) dev.qcow2.storage.WritableFileStorage.refuseReadingBesideWriter(image.path());
    }
}
