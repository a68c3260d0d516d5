package dev.qcow2.cli;

import dev.qcow2.crypto.SecretLookup;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.image.Encryption;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.image.RawImage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens the FILE operand of a command as qemu-img does: with {@code -f} as given, else probed
 * (qcow2 magic, else raw). Every open is read-only. A probed qcow2 header is read as any other:
 * the files it names pass the command's {@code --allow-backing} gate ({@link AllowBackingOption});
 * with {@code -f raw} no header is read at all, so nothing it names is ever opened.
 */
final class ImageOpener {
    private ImageOpener() { }

    /** qcow2 when the file starts with the qcow2 magic, raw otherwise. */
    static String probe(String file) throws IOException {
        Path p = Path.of(file);
        try (InputStream in = Files.newInputStream(p)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && ByteBuffer.wrap(magic).getInt() == Qcow2Header.MAGIC ? "qcow2" : "raw";
        }
    }

    /** The format to use: {@code -f} checked against what this tool reads, or the probed one. */
    static String format(String file, String requested) throws IOException {
        if (requested == null) return probe(file);
        if (!requested.equals("qcow2") && !requested.equals("raw")) {
            throw new Errors.CliException(file + ": Unknown driver '" + requested + "' (this tool reads qcow2 and raw)");
        }
        if (requested.equals("qcow2") && !probe(file).equals("qcow2")) {
            throw new Errors.CliException(file + ": Image is not in qcow2 format");
        }
        return requested;
    }

    static BlockDevice open(String file, String requested, OpenOptions options) throws IOException {
        String fmt = format(file, requested);
        return fmt.equals("qcow2") ? Qcow2Image.open(Path.of(file), options) : RawImage.open(Path.of(file));
    }

    /** Opens an image operand with {@code options} and the operand's secrets ({@link ImageArg#lookup}). */
    static BlockDevice open(ImageArg image, OpenOptions options) throws IOException {
        String fmt = format(image.file(), image.format());
        if (!fmt.equals("qcow2")) return RawImage.open(image.path());
        Qcow2Image img = Qcow2Image.open(image.path(), options.withSecrets(image.lookup()));
        try {
            checkEncryptFormat(image, img);
            // an id that names no --object fails the open of an encrypted image (qemu: at open, not at the first read)
            if (img.encrypted()) image.lookup().secretFor(new SecretLookup.Layer(image.path(), 0, java.util.Optional.empty()));
            // qemu-img opens an encrypted image for I/O only with its key (qcow2_do_open): map,
            // convert, compare... refuse at open, before printing anything. check (BDRV_O_CHECK:
            // ImageChecker refuses, or --no-key) and metadata-only opens (info, dump) do not need it.
            if (!options.forCheck() && !options.metadataOnly() && img.encryption() instanceof Encryption.Locked locked) {
                throw locked.refusal(img.describe());
            }
        } catch (RuntimeException e) {
            img.close();
            throw e;
        }
        return img;
    }

    /** The format of an operand: its driver checked against the file, or probed. */
    static String format(ImageArg image) throws IOException {
        return format(image.file(), image.format());
    }

    /**
     * qcow2_update_options_prepare: {@code encrypt.format} in the image options must be the
     * header's encryption (block/qcow2.c's messages).
     */
    static void checkEncryptFormat(ImageArg image, Qcow2Image img) {
        if (image.encryptFormat().isEmpty()) return;
        String wanted = image.encryptFormat().get();
        String where = "Could not open '" + image.operand() + "': ";
        if (!img.encrypted()) {
            throw new Errors.CliException(where + "No encryption in image header, but options specified format '" + wanted + "'");
        }
        if (!wanted.equals(img.encryptionFormat())) {
            throw new Errors.CliException(where + "Header reported '" + img.encryptionFormat() + "' encryption format but options specify '" + wanted + "'");
        }
    }
}
