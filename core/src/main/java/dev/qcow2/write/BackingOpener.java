package dev.qcow2.write;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.image.BackingChain;
import dev.qcow2.image.BackingName;
import dev.qcow2.image.LayerSecrets;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.image.FollowPolicy;
import dev.qcow2.image.FollowRefusedException;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.image.RawImage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Opens the backing file of an image being written, read-only, as QEMU does: the name is
 * resolved relative to the image (path_combine) and its format is the recorded one or probed.
 * Copy-on-write needs it, so a backing file that cannot be opened — or that the options'
 * {@link FollowPolicy} does not follow — refuses the write open.
 */
final class BackingOpener {
    private BackingOpener() { }

    static BlockDevice open(String resource, Path imagePath, Qcow2Header header, WriteOptions options) throws IOException {
        String name = header.backingFileName();
        if (name == null) return null;
        BackingName parsed = BackingName.parse(resource, name);
        // a json: name's file is used as it is (see BackingName); a plain one is relative to the image
        String full = parsed.json() ? parsed.fileName() : BackingChain.pathCombine(imagePath == null ? null : imagePath.toString(), name);
        Path path = Path.of(full);
        // the writer's image is the top of its chain: its backing chain is gated from its directory
        FollowPolicy follow = options.follow().anchoredAt(imagePath);
        if (!follow.follows()) {
            throw new Qcow2Exception(resource, "Could not open backing file: " + full + " is not followed (follow: none); copy-on-write needs it");
        }
        follow.check(resource, "backing file", path);
        try {
            if (imagePath != null && Files.exists(path) && Files.isSameFile(path, imagePath)) {
                throw new Qcow2Exception(resource, "Could not open backing file: it is the image itself");
            }
            String format = options.backingFormat() != null ? options.backingFormat()
                    : header.backingFormat().or(parsed::driver).orElse(null);
            if (format == null) format = probe(path);
            // the backing file's secret: depth 1 of the writer's lookup, or its json: name's key-secret
            OpenOptions open = OpenOptions.permissive().withFollowBacking(!parsed.noBacking())
                    .withSecrets(LayerSecrets.below(options.secrets(), parsed.keySecretId())).withFollow(follow);
            BlockDevice device = switch (format) {
                case "qcow2" -> Qcow2Image.open(path, open);
                case "raw" -> RawImage.open(path);
                default -> throw new Qcow2Exception(resource, "Could not open backing file: Unknown driver '" + format + "'");
            };
            try {
                parsed.requireEncryptFormat(full, device);
            } catch (Qcow2Exception e) {
                device.close();
                throw e;
            }
            return device;
        } catch (NoSuchFileException e) {
            throw new Qcow2Exception(resource, "Could not open backing file: Could not open '" + full + "': No such file or directory");
        } catch (FollowRefusedException e) {
            throw e;
        } catch (Qcow2Exception e) {
            if (e.getMessage().contains("Could not open backing file")) throw e;
            throw new Qcow2Exception(resource, "Could not open backing file: " + e.getMessage(), e);
        }
    }

    private static String probe(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path)) {
            ByteBuffer magic = ByteBuffer.allocate(4);
            ch.read(magic, 0);
            return magic.position() == 4 && magic.getInt(0) == Qcow2Header.MAGIC ? "qcow2" : "raw";
        }
    }
}
