package dev.qcow2.chain;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.crypto.SecretLookup;
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
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens the backing file a safe rebase switches to, read-only with its own chain, as img_rebase
 * does: the name is resolved against the image's directory (bdrv_get_full_backing_filename_from_filename),
 * the format is the one given. A chain that leads back to the image itself is refused (QEMU
 * fails there on its own image lock).
 */
final class NewBacking {
    private NewBacking() { }

    static BlockDevice open(Path image, String name, String format) throws IOException {
        return open(image, name, format, SecretLookup.none(), FollowPolicy.imageTree());
    }

    /**
     * @param secrets the rebased image's lookup: the new backing file is its depth 1 (or names its secret in a json: name)
     * @param follow  the user named the new backing file (trusted); the names inside it are gated
     *                from its own directory with the same allowances
     */
    static BlockDevice open(Path image, String name, String format, SecretLookup secrets, FollowPolicy follow) throws IOException {
        String prefix = "Could not open new backing file '" + name + "': ";
        BackingName parsed = BackingName.parse(null, name);
        Path resolved = Path.of(parsed.json() ? parsed.fileName() : BackingChain.pathCombine(image == null ? null : image.toString(), name));
        if (!Files.exists(resolved)) {
            throw new Qcow2Exception(null, prefix + "Could not open '" + resolved + "': No such file or directory");
        }
        // the new backing file's own secret is the one its json: name names (qemu-img opens it from
        // -b alone; the image's backing.encrypt.key-secret belongs to the old backing file)
        SecretLookup below = LayerSecrets.below(secrets, parsed.keySecretId());
        SecretLookup newBacking = parsed.keySecretId().isEmpty() ? below : layer -> layer.depth() == 0
                ? secrets.secretFor(new SecretLookup.Layer(layer.path(), SecretLookup.OUTSIDE_CHAIN, parsed.keySecretId()))
                : below.secretFor(layer);
        BlockDevice dev;
        try {
            dev = switch (format) {
                case "qcow2" -> Qcow2Image.open(resolved, OpenOptions.permissive().withFollowBacking(!parsed.noBacking())
                        .withSecrets(newBacking).withFollow(follow.reanchoredAt(resolved)));
                case "raw" -> RawImage.open(resolved);
                default -> throw new Qcow2Exception(null, "backing files in format '" + format + "' cannot be read by this tool");
            };
        } catch (FollowRefusedException e) {
            throw e;
        } catch (Qcow2Exception e) {
            throw new Qcow2Exception(null, prefix + e.getMessage(), e);
        }
        if (image != null && leadsTo(dev, resolved, image)) {
            dev.close();
            throw new Qcow2Exception(null, prefix + "its backing chain contains '" + image + "' itself (a backing loop)");
        }
        return dev;
    }

    private static boolean leadsTo(BlockDevice dev, Path resolved, Path image) throws IOException {
        if (!Files.exists(image)) return false;
        if (Files.isSameFile(resolved, image)) return true;
        for (BlockDevice d = dev; d != null; d = d.backing().orElse(null)) {
            if (d instanceof Qcow2Image q && q.path() != null && Files.isSameFile(q.path(), image)) return true;
        }
        return false;
    }
}
