package dev.qcow2.format;

import dev.qcow2.Qcow2Exception;

import java.util.ArrayList;
import java.util.List;

/**
 * A header that promises a structure the image does not have, or has a structure its header
 * does not allow: the contradictions QEMU's {@code qcow2_do_open} (block/qcow2.c, with
 * {@code qcow2_read_extensions}) refuses after the header fields themselves parsed. One model
 * for every open: {@code Qcow2Image.open} (read), the write opens, amend, snapshot, rebase.
 *
 * <p>Which opens refuse which contradiction follows QEMU 7.2: the extension checks run in
 * {@code qcow2_read_extensions} for every open; the data-file and missing-crypto-header checks
 * are skipped by a metadata-only open ({@code BDRV_O_NO_IO}, what {@code qemu-img info} uses),
 * so {@code info} of such an image succeeds.
 *
 * <p>A tolerant open (evidence reading) ignores a contradiction by reading as if the header did
 * not make the promise: {@link #ignoring} says how, {@link #ignored} says it in one line.
 */
public sealed interface HeaderContradiction {

    /** qemu-img's words for the refusal (without the file name). */
    String message();

    /** Whether a metadata-only open (qemu-img info: BDRV_O_NO_IO) refuses it too. */
    boolean refusedWhenMetadataOnly();

    /** What a tolerant open does instead, in one line. */
    String ignored();

    /** The header a tolerant read uses: this contradiction resolved by dropping the promise. */
    Qcow2Header ignoring(Qcow2Header h);

    /** A crypto header extension in an image whose crypt_method is not LUKS (qcow2_read_extensions). */
    record CryptoHeaderWithoutLuks(int cryptMethod) implements HeaderContradiction {
        public String message() { return "CRYPTO header extension only expected with LUKS encryption method"; }
        public boolean refusedWhenMetadataOnly() { return true; }
        public String ignored() {
            return "crypto header extension ignored (crypt_method " + Integer.toUnsignedString(cryptMethod) + ", not LUKS)";
        }
        public Qcow2Header ignoring(Qcow2Header h) {
            return h.toBuilder().extensions(h.extensions().stream()
                    .filter(e -> !(e instanceof HeaderExtension.CryptoHeader)).toList()).build();
        }
    }

    /** The LUKS header area does not start on a cluster boundary (qcow2_read_extensions). */
    record MisalignedCryptoHeader(long headerOffset, int clusterSize) implements HeaderContradiction {
        public String message() {
            return "Encryption header offset '" + Long.toUnsignedString(headerOffset) + "' is not a multiple of cluster size '" + clusterSize + "'";
        }
        public boolean refusedWhenMetadataOnly() { return true; }
        public String ignored() { return "misaligned LUKS header offset 0x" + Long.toHexString(headerOffset) + " ignored (data cannot be decrypted)"; }
        public Qcow2Header ignoring(Qcow2Header h) { return h; }
    }

    /** The external-data-file incompatible bit without the data-file name extension. */
    record MissingDataFileName() implements HeaderContradiction {
        public String message() { return "'data-file' is required for this image"; }
        public boolean refusedWhenMetadataOnly() { return false; }
        public String ignored() { return "external data file bit ignored (no data-file name): guest data read from the image file itself"; }
        public Qcow2Header ignoring(Qcow2Header h) {
            return h.toBuilder().incompatibleFeatures(h.incompatibleFeatures() & ~FeatureBits.INCOMPAT_DATA_FILE)
                    .autoclearFeatures(h.autoclearFeatures() & ~FeatureBits.AUTOCLEAR_DATA_FILE_RAW).build();
        }
    }

    /** The data-file-raw autoclear bit on an image without an external data file. */
    record DataFileRawWithoutDataFile() implements HeaderContradiction {
        public String message() { return "data-file-raw requires a data file"; }
        public boolean refusedWhenMetadataOnly() { return false; }
        public String ignored() { return "data-file-raw bit ignored (the image has no external data file)"; }
        public Qcow2Header ignoring(Qcow2Header h) {
            return h.toBuilder().autoclearFeatures(h.autoclearFeatures() & ~FeatureBits.AUTOCLEAR_DATA_FILE_RAW).build();
        }
    }

    /** crypt_method LUKS without the crypto header extension that locates the LUKS header. */
    record MissingCryptoHeader(int cryptMethod) implements HeaderContradiction {
        public String message() { return "Missing CRYPTO header for crypt method " + cryptMethod; }
        public boolean refusedWhenMetadataOnly() { return false; }
        public String ignored() {
            return "crypt_method " + cryptMethod + " ignored (no crypto header extension): guest data read as stored, not decrypted";
        }
        public Qcow2Header ignoring(Qcow2Header h) { return h.toBuilder().cryptMethod(Qcow2Header.CRYPT_NONE).build(); }
    }

    /** The contradictions in {@code h}, in the order QEMU's open meets them. */
    static List<HeaderContradiction> find(Qcow2Header h) {
        List<HeaderContradiction> found = new ArrayList<>();
        h.extension(HeaderExtension.CryptoHeader.class).ifPresent(c -> {
            if (h.cryptMethod() != Qcow2Header.CRYPT_LUKS) found.add(new CryptoHeaderWithoutLuks(h.cryptMethod()));
            else if (Long.remainderUnsigned(c.headerOffset(), h.clusterSize()) != 0) {
                found.add(new MisalignedCryptoHeader(c.headerOffset(), h.clusterSize()));
            }
        });
        if (h.hasExternalDataFile()) {
            if (h.externalDataFile().isEmpty()) found.add(new MissingDataFileName());
        } else if (h.dataFileRaw()) {
            found.add(new DataFileRawWithoutDataFile());
        }
        if (h.cryptMethod() == Qcow2Header.CRYPT_LUKS && h.extension(HeaderExtension.CryptoHeader.class).isEmpty()) {
            found.add(new MissingCryptoHeader(h.cryptMethod()));
        }
        return List.copyOf(found);
    }

    /** The contradictions an open refuses: all of them, or for a metadata-only open those QEMU checks then too. */
    static List<HeaderContradiction> refusedBy(Qcow2Header h, boolean metadataOnly) {
        return find(h).stream().filter(c -> !metadataOnly || c.refusedWhenMetadataOnly()).toList();
    }

    /** Throws the first contradiction an open of {@code h} refuses, as qemu-img words it. */
    static void refuse(String resource, Qcow2Header h, boolean metadataOnly) throws Qcow2Exception {
        List<HeaderContradiction> refused = refusedBy(h, metadataOnly);
        if (!refused.isEmpty()) throw refused.getFirst().refusal(resource);
    }

    /** {@code h} with every one of {@code contradictions} resolved by {@link #ignoring}. */
    static Qcow2Header ignoringAll(Qcow2Header h, List<HeaderContradiction> contradictions) {
        Qcow2Header out = h;
        for (HeaderContradiction c : contradictions) out = c.ignoring(out);
        return out;
    }

    /** The refusal as one line: the file, then qemu-img's words. */
    default Qcow2Exception refusal(String resource) { return new Qcow2Exception(resource, message()); }
}
