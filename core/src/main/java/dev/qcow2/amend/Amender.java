package dev.qcow2.amend;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.UnsupportedFeatureException;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.FeatureBits;
import dev.qcow2.format.HeaderExtension;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.resize.Resizer;
import dev.qcow2.storage.WritableFileStorage;
import dev.qcow2.storage.BorrowedStorage;
import dev.qcow2.storage.WritableStorage;
import dev.qcow2.write.Qcow2Writer;
import dev.qcow2.write.WriteOptions;
import dev.qcow2.image.FollowPolicy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * {@code qemu-img amend} for qcow2: QEMU 7.2's qcow2_amend_options (block/qcow2.c) step by
 * step, in its order and with its messages. The options are checked first (nothing changes
 * when one is bad); then: upgrade, refcount width, data-file fields, the backing file (which
 * 7.2 no longer changes: only the current values are accepted), lazy refcounts, size, and the
 * downgrade last, so that features v2 lacks are gone before it. As in QEMU, an error in a
 * later step leaves the earlier ones done.
 *
 * <p>Never repairs implicitly: a dirty image is refused (QEMU would repair it on open).
 */
public final class Amender {
    private Amender() { }

    /**
     * Amends the image at {@code path}; {@code secrets} holds the secret objects the options name
     * ({@code encrypt.new-secret}, {@code encrypt.old-secret}). Without image options no
     * {@code encrypt.key-secret} names the image's own passphrase (see the four-argument form).
     */
    public static void amend(Path path, AmendOptions options, dev.qcow2.crypto.SecretObjects secrets) throws IOException {
        amend(path, options, secrets, dev.qcow2.crypto.SecretLookup.none());
    }

    /**
     * As qemu-img amend with --image-opts: {@code imageSecrets} gives the image's passphrase
     * (encrypt.key-secret), needed to open a LUKS image; {@code encrypt.*} key-slot options go to
     * {@link dev.qcow2.crypto.LuksKeySlots} (QEMU: qcrypto_block_luks_amend_options).
     */
    public static void amend(Path path, AmendOptions options, dev.qcow2.crypto.SecretObjects secrets,
                             dev.qcow2.crypto.SecretLookup imageSecrets) throws IOException {
        amend(path, options, secrets, imageSecrets, FollowPolicy.imageTree());
    }

    /** {@link #amend(Path, AmendOptions, dev.qcow2.crypto.SecretObjects, dev.qcow2.crypto.SecretLookup)}; a resize opens the backing file as {@code follow} allows. */
    public static void amend(Path path, AmendOptions options, dev.qcow2.crypto.SecretObjects secrets,
                             dev.qcow2.crypto.SecretLookup imageSecrets, FollowPolicy follow) throws IOException {
        if (!options.encrypt()) {
            try (WritableFileStorage file = WritableFileStorage.open(path)) {
                amend(file, path, options, follow);
            }
            return;
        }
        try (WritableFileStorage file = WritableFileStorage.open(path)) {
            String res = file.describe();
            Qcow2Header h = Qcow2Header.read(file);
            if (h.isCorrupt()) throw new Qcow2Exception(res, "qcow2: Image is corrupt; cannot be opened read/write");
            dev.qcow2.format.HeaderContradiction.refuse(res, h, false);   // qcow2_do_open
            if (h.isDirty()) throw new dev.qcow2.DirtyImageException(res);
            if (h.cryptMethod() == Qcow2Header.CRYPT_NONE) {
                throw new Qcow2Exception(res, "Can't amend encryption options - encryption not present");
            }
            boolean other = options.size() != null || options.compat() != null || options.backingFile() != null
                    || options.backingFmt() != null || options.dataFile() != null || options.dataFileRaw() != null
                    || options.lazyRefcounts() != null || options.refcountBits() != null;
            if (other) throw new UnsupportedFeatureException(res, "amending encrypted images is not supported beyond their LUKS key slots");
            dev.qcow2.crypto.Secret key = imageSecrets.secretFor(new dev.qcow2.crypto.SecretLookup.Layer(path, 0, java.util.Optional.empty()))
                    .orElse(null);
            dev.qcow2.crypto.LuksKeySlots.amend(res, file, h, key, options.keySlots(), secrets, new java.security.SecureRandom());
        }
    }

    /** Amends the image at {@code path}, holding an exclusive lock on it meanwhile. */
    public static void amend(Path path, AmendOptions options) throws IOException {
        try (WritableFileStorage file = WritableFileStorage.open(path)) {
            amend(file, path, options);
        }
    }

    /** Amends an image on any writable storage; {@code path} resolves a backing file for a resize (may be null). */
    public static void amend(WritableStorage file, Path path, AmendOptions o) throws IOException {
        amend(file, path, o, FollowPolicy.imageTree());
    }

    /** {@link #amend(WritableStorage, Path, AmendOptions)}; a resize opens the backing file as {@code follow} allows. */
    public static void amend(WritableStorage file, Path path, AmendOptions o, FollowPolicy follow) throws IOException {
        String res = file.describe();
        Qcow2Header h = Qcow2Header.read(file);
        refuseUnamendable(res, h);
        SyncedStorage storage = new SyncedStorage(file);

        // qcow2_amend_options' option loop: every check before anything changes.
        if (o.encrypt()) throw new Qcow2Exception(res, "Can't amend encryption options - encryption not present");
        int oldVersion = h.version();
        int newVersion = oldVersion;
        if (o.compat() != null) {
            newVersion = switch (o.compat()) {
                case "0.10", "v2" -> 2;
                case "1.1", "v3" -> 3;
                default -> throw new Qcow2Exception(res, "Unknown compatibility level " + o.compat());
            };
        }
        int refcountBits = h.refcountBits();
        if (o.refcountBits() != null) {
            long bits = o.refcountBits();
            if (bits <= 0 || bits > 64 || Long.bitCount(bits) != 1) {
                throw new Qcow2Exception(res, "Refcount width must be a power of two and may not exceed 64 bits");
            }
            refcountBits = (int) bits;
        }
        if (o.dataFile() != null && !h.hasExternalDataFile()) {
            throw new Qcow2Exception(res, "data-file can only be set for images that use an external data file");
        }
        boolean dataFileRaw = o.dataFileRaw() != null ? o.dataFileRaw() : h.dataFileRaw();
        if (dataFileRaw && !h.dataFileRaw()) throw new Qcow2Exception(res, "data-file-raw cannot be set on existing images");

        if (newVersion > oldVersion) {
            CompatChange.upgrade(storage, h);
            h = Qcow2Header.read(file);
        }
        if (refcountBits != h.refcountBits()) {
            if (newVersion < 3 && refcountBits != 16) {
                throw new Qcow2Exception(res, "Refcount widths other than 16 bits require compatibility level 1.1 "
                        + "or above (use compat=1.1 or greater)");
            }
            RefcountOrderChange.change(storage, h, Integer.numberOfTrailingZeros(refcountBits));
            h = Qcow2Header.read(file);
        }
        if (h.version() >= 3) {
            long autoclear = dataFileRaw ? h.autoclearFeatures() | FeatureBits.AUTOCLEAR_DATA_FILE_RAW
                    : h.autoclearFeatures() & ~FeatureBits.AUTOCLEAR_DATA_FILE_RAW;
            HeaderCluster.State s = HeaderCluster.State.of(h).features(h.incompatibleFeatures(), h.compatibleFeatures(), autoclear);
            if (o.dataFile() != null) s = s.dataFile(o.dataFile().isEmpty() ? null : o.dataFile());
            HeaderCluster.write(storage, h, s);
            h = Qcow2Header.read(file);
        }
        if (o.backingFile() != null || o.backingFmt() != null) {
            if (!Objects.equals(o.backingFile(), h.backingFileName()) || !Objects.equals(o.backingFmt(), h.backingFormat().orElse(null))) {
                throw new BackingChangeException(res);
            }
        }
        if (o.lazyRefcounts() != null && o.lazyRefcounts() != (h.version() >= 3 && h.lazyRefcounts())) {
            if (o.lazyRefcounts() && newVersion < 3) {
                throw new Qcow2Exception(res, "Lazy refcounts only supported with compatibility level 1.1 and above "
                        + "(use compat=1.1 or greater)");
            }
            long compat = o.lazyRefcounts() ? h.compatibleFeatures() | FeatureBits.COMPAT_LAZY_REFCOUNTS
                    : h.compatibleFeatures() & ~FeatureBits.COMPAT_LAZY_REFCOUNTS;
            HeaderCluster.write(storage, h, HeaderCluster.State.of(h).features(h.incompatibleFeatures(), compat, h.autoclearFeatures()));
            h = Qcow2Header.read(file);
        }
        if (o.size() != null && o.size() != 0) {
            storage.flush();
            try (Qcow2Writer w = Qcow2Writer.open(new BorrowedStorage(file), path, WriteOptions.defaults().withFollow(follow))) {
                Resizer.resize(w, o.size());
            }
            h = Qcow2Header.read(file);
        }
        if (newVersion < h.version()) {
            CompatChange.downgrade(storage, h, h.backingFileName() != null);
        }
        storage.flush();
    }

    /** What this library does not amend (QEMU opens these; it would also repair a dirty image first). */
    private static void refuseUnamendable(String res, Qcow2Header h) throws Qcow2Exception {
        if (h.isCorrupt()) throw new Qcow2Exception(res, "qcow2: Image is corrupt; cannot be opened read/write");
        dev.qcow2.format.HeaderContradiction.refuse(res, h, false);   // qcow2_do_open
        if (h.isDirty()) throw new dev.qcow2.DirtyImageException(res);
        if (h.cryptMethod() != Qcow2Header.CRYPT_NONE) {
            throw new UnsupportedFeatureException(res, "amending encrypted images is not supported");
        }
    }

    /** QEMU 7.2 refuses to change the backing file through amend; carries qemu-img's hint. */
    public static final class BackingChangeException extends Qcow2Exception {
        BackingChangeException(String res) { super(res, "Cannot amend the backing file"); }

        public String hint() { return "You can use 'qemu-img rebase' instead."; }
    }
}
