package dev.qcow2.cli;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.chain.Progress;
import dev.qcow2.convert.ConvertChunks;
import dev.qcow2.convert.ConvertTargetStorage;
import dev.qcow2.create.CreateOptions;
import dev.qcow2.create.ImageCreator;
import dev.qcow2.create.OptionList;
import dev.qcow2.crypto.SecretLookup;
import dev.qcow2.crypto.SecretObjects;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.storage.WritableFileStorage;
import dev.qcow2.write.Qcow2Writer;
import dev.qcow2.write.WriteOptions;

import java.nio.file.Path;

/**
 * {@code convert -O qcow2 -o encrypt.format=luks|aes,encrypt.key-secret=ID}: the target created
 * encrypted with the secret object {@code ID} ({@link ImageCreator#create(Path, CreateOptions,
 * SecretObjects)}) and the guest bytes written through the write engine unlocked with the same
 * secret ({@link WriteOptions#withSecrets}), which encrypts them. Mirrors core's
 * {@code Qcow2Convert} (same chunking, same target storage), whose entry point takes no secrets;
 * compression is refused with encryption, as qemu-img does.
 */
final class EncryptedConvertTarget {
    private EncryptedConvertTarget() { }

    /** Whether the target options ask for encryption. */
    static boolean wanted(String options) {
        if (options == null) return false;
        OptionList list = new OptionList();
        list.add(options);
        return list.get("encrypt.format") != null || list.has("encryption") && "on".equals(list.get("encryption"));
    }

    static void convert(BlockDevice src, Path out, String options, boolean compress, SecretObjects secrets,
                        Progress progress) throws Exception {
        if (compress) throw new Errors.CliException("Compression and encryption not supported at the same time");
        OptionList list = new OptionList();
        list.add(options);
        if (list.get("backing_file") != null) {
            throw new Qcow2Exception(out.toString(), "-o backing_file is not supported by convert yet");
        }
        String id = list.get("encrypt.key-secret");
        if (id != null && secrets.byId(id).isEmpty()) {
            throw new Errors.CliException(out + ": error while converting qcow2: No secret with id '" + id + "'");
        }
        list.set("size", Long.toString(src.size()));
        CreateOptions created = ImageCreator.validate(out, list);
        ImageCreator.create(out, created, secrets);
        SecretLookup lookup = id == null ? SecretLookup.none() : SecretLookup.topOnly(secrets.byId(id).orElseThrow());
        try {
            try (Qcow2Writer writer = Qcow2Writer.open(new ConvertTargetStorage(WritableFileStorage.open(out)), out,
                    WriteOptions.defaults().withSecrets(lookup))) {
                long size = writer.size();
                int block = Math.max(writer.geometry().clusterSize(), ConvertChunks.SPARSE_BLOCK);
                int workers = ConvertChunks.workers(!(src instanceof dev.qcow2.image.RawImage));
                ConvertChunks.copy(src, workers, c -> c.dataRuns(block), (c, runs) -> {
                    for (int r = 0; r < runs.length; r += 2) {
                        writer.write(c.offset() + runs[r], c.data().slice(runs[r], runs[r + 1] - runs[r]));
                    }
                    progress.update(c.offset() + c.length(), size);
                });
            }
        } catch (Exception | Error e) {
            // as Qcow2Convert: a failed copy removes the half-written target
            try {
                if (java.nio.file.Files.isRegularFile(out)) java.nio.file.Files.delete(out);
            } catch (java.io.IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }
}
