package dev.qcow2.create;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.image.BackingChain;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.storage.Fallocate;
import dev.qcow2.storage.WritableFileStorage;
import dev.qcow2.storage.WritableStorage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Creates qcow2 images laid out byte for byte as QEMU 7.2's qemu-img create lays them out
 * (see {@link QemuLayout}).
 *
 * <p>Crash safety: the file is truncated first, then everything except the first cluster is
 * written and flushed, and only then the header (with the magic) is written and flushed. A
 * crash before the end leaves a file that is not a qcow2 image (zeros where the magic goes);
 * after it, a complete image.
 */
public final class ImageCreator {
    private ImageCreator() { }

    /**
     * What qemu-img's bdrv_img_create does before it prints "Formatting ...": checks the backing
     * file (unless {@code unsafe}, qemu-img's {@code -u}) and takes the size from it when none is
     * given. Errors name the image, as qemu-img's do.
     */
    public static void resolveBacking(Path image, OptionList options, boolean unsafe) throws IOException {
        String backing = options.get("backing_file");
        boolean needSize = !options.has("size");
        if (backing != null && !unsafe) {
            String full = BackingChain.pathCombine(image.toString(), backing);
            String fmt = options.get("backing_fmt");
            if (fmt == null) {
                backingSize(image, Path.of(full), full, "raw");   // qemu-img opens (probes) it first
                throw new Qcow2Exception(image.toString(), "Backing file specified without backing format");
            }
            long size = backingSize(image, Path.of(full), full, fmt);
            if (needSize) options.set("size", Long.toString(size));
        }
        if (!options.has("size")) throw new Qcow2Exception(image.toString(), "Image creation needs a size parameter");
    }

    /** {@link CreateOptions#of} with the image name in front of qemu's message. */
    public static CreateOptions validate(Path image, OptionList options) throws Qcow2Exception {
        try {
            return CreateOptions.of(options);
        } catch (IllegalArgumentException e) {
            throw new Qcow2Exception(image.toString(), e.getMessage());
        }
    }

    /** The whole of qemu-img create after option parsing: backing check, validation, writing. */
    public static CreateOptions create(Path image, OptionList options, boolean unsafe) throws IOException {
        resolveBacking(image, options, unsafe);
        CreateOptions o = validate(image, options);
        create(image, o);
        return o;
    }

    /**
     * Creates {@code image}; {@code secrets} holds the secret objects {@code encrypt.key-secret=ID}
     * names (qemu-img create --object secret,...): the LUKS passphrase of key slot 0 (qemu's
     * qcrypto_block_luks_create) or the legacy AES key, which the image does not store.
     */
    public static void create(Path image, CreateOptions o, dev.qcow2.crypto.SecretObjects secrets) throws IOException {
        byte[] luksArea = null;
        if (o.encryption() != null) {
            EncryptionRequest e = o.encryption();
            if (e.keySecretId() == null) throw new Qcow2Exception(image.toString(), "Parameter 'encrypt.key-secret' is required for cipher");
            dev.qcow2.crypto.Secret secret = secrets.byId(e.keySecretId()).orElseThrow(() ->
                    new Qcow2Exception(image.toString(), "No secret with id '" + e.keySecretId() + "'"));
            if (e.luks()) {
                byte[] passphrase = secret.bytes();
                try {
                    luksArea = dev.qcow2.crypto.LuksFormatter.format(e.spec(), passphrase, e.iterTimeMs(),
                            new java.security.SecureRandom()).area();
                } catch (IllegalArgumentException ex) {
                    throw new Qcow2Exception(image.toString(), ex.getMessage());
                } finally {
                    java.util.Arrays.fill(passphrase, (byte) 0);
                }
            }
        }
        create(image, o, luksArea);
    }

    /** Creates (or truncates and recreates) {@code image}, and its external data file if any. */
    public static void create(Path image, CreateOptions o) throws IOException {
        if (o.encryption() != null) create(image, o, dev.qcow2.crypto.SecretObjects.none());
        else create(image, o, (byte[]) null);
    }

    private static void create(Path image, CreateOptions o, byte[] luksArea) throws IOException {
        QemuLayout.Layout layout;
        try {
            layout = QemuLayout.plan(o);
        } catch (IllegalArgumentException e) {
            throw new Qcow2Exception(image.toString(), e.getMessage());
        }
        if (o.dataFile() != null) {
            // Resolved like every reader resolves it (relative to the image's directory); qemu-img
            // uses its working directory, which differs only when the image is elsewhere.
            Path dataPath = Path.of(BackingChain.pathCombine(image.toString(), o.dataFile()));
            try (WritableFileStorage data = openEmpty(dataPath)) {
                // file-posix's truncate of the data file: FALLOC reserves (posix_fallocate), FULL writes zeros
                if (o.preallocation() == Preallocation.FALLOC) data.growAllocated(layout.dataFileLength());
                if (o.preallocation() == Preallocation.FULL) Fallocate.writeZeros(data, 0, layout.dataFileLength());
                data.setLength(layout.dataFileLength());
                data.flush();
            }
        }
        try (WritableFileStorage file = openEmpty(image)) {
            if (luksArea != null) {
                // the LUKS header and slot 0's key material, before the header that names them
                file.write(layout.cryptoOffset(), luksArea);
                java.util.Arrays.fill(luksArea, (byte) 0);
            }
            write(file, layout);
        }
    }

    /**
     * The file, locked, then emptied: an existing file another writer holds is refused before
     * a byte of it is lost (WritableFileStorage.create would truncate before locking).
     */
    private static WritableFileStorage openEmpty(Path path) throws IOException {
        if (!Files.exists(path)) return WritableFileStorage.create(path);
        WritableFileStorage s = WritableFileStorage.open(path);
        try {
            s.setLength(0);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** Writes a planned layout: data area and tables first, flushed; the header last. */
    static void write(WritableStorage file, QemuLayout.Layout layout) throws IOException {
        for (long[] run : layout.dataRuns()) {
            if (layout.fallocated()) {
                // qcow2_co_truncate grows the file over the data area with fallocate from where its
                // metadata ends; bytes below stay holes until the metadata is written over them
                if (file.size() < run[0]) file.setLength(run[0]);
                file.growAllocated(Math.max(file.size(), run[0] + run[1]));
            } else {
                Fallocate.writeZeros(file, run[0], run[1]);
            }
        }
        for (Map.Entry<Long, byte[]> e : layout.stale().entrySet()) file.write(e.getKey(), e.getValue());
        for (Map.Entry<Long, byte[]> e : layout.metadata().entrySet()) file.write(e.getKey(), e.getValue());
        file.setLength(layout.fileLength());
        file.flush();
        file.write(0, layout.header());
        file.flush();
    }


    /** The backing file's virtual size; raw files count in whole 512-byte sectors, as bdrv_getlength. */
    private static long backingSize(Path image, Path path, String shown, String fmt) throws IOException {
        if (!Files.exists(path)) {
            throw new Qcow2Exception(image.toString(), "Could not open '" + shown + "': No such file or directory");
        }
        try {
            if ("raw".equals(fmt)) return (Files.size(path) + 511) / 512 * 512;
            if (fmt != null && !"qcow2".equals(fmt)) {
                throw new Qcow2Exception(image.toString(), "Backing format '" + fmt + "' is not supported yet");
            }
            try (Qcow2Image backing = Qcow2Image.open(path, OpenOptions.defaults())) {
                return backing.size();
            }
        } catch (NoSuchFileException e) {
            throw new Qcow2Exception(image.toString(), "Could not open '" + shown + "': No such file or directory");
        } catch (Qcow2Exception e) {
            if (image.toString().equals(e.resource())) throw e;
            String msg = e.getMessage();
            String prefix = e.resource() == null ? "" : e.resource() + ": ";
            throw new Qcow2Exception(image.toString(), msg.startsWith(prefix) ? msg.substring(prefix.length()) : msg);
        }
    }
}
