package dev.qcow2.scan;

import dev.qcow2.ErrorLine;
import dev.qcow2.check.Finding;
import dev.qcow2.check.ImageChecker;
import dev.qcow2.check.ReferenceCounts;
import dev.qcow2.format.FeatureBits;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.image.BackingChain;
import dev.qcow2.image.FollowPolicy;
import dev.qcow2.image.FollowRefusedException;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The scan of one file, shared by {@code qcow2 scan}, {@code qcow2 hash} and the Spark job:
 * header facts, backing chain, snapshot table, qemu-img's check (through {@link ImageChecker},
 * the one checker) and, when asked, guest-content digests ({@link GuestHasher}).
 *
 * <p>Invariants: every open is read-only (nothing is written, not even the dirty bit or a
 * repair); memory is the checker's one counter per host cluster, the L2 cache and one hash
 * chunk; a failure never escapes: it becomes the record's {@code error}.
 */
public final class ImageScan {
    private static final byte[] QCOW2_MAGIC = {'Q', 'F', 'I', (byte) 0xfb};

    private ImageScan() { }

    /**
     * Scans {@code path}. A file without the qcow2 magic gives a {@code raw} record when
     * {@code named} (the user gave it on the command line) and nothing otherwise (a directory
     * walk skips it); a file that cannot be read gives a record with only {@code error} set.
     */
    public static Optional<ScanRecord> scan(ScanFiles files, String path, boolean named, ScanOptions options) {
        long t0 = System.nanoTime();
        Storage storage;
        long fileSize;
        byte[] magic;
        try {
            storage = files.open(path);
        } catch (IOException | RuntimeException e) {
            return Optional.of(ScanRecord.failed(path, ErrorLine.of(e), millis(t0)));
        }
        try {
            fileSize = storage.size();
            magic = fileSize >= 4 ? storage.read(0, 4) : new byte[0];
        } catch (IOException | RuntimeException e) {
            close(storage);
            return Optional.of(ScanRecord.failed(path, ErrorLine.of(e), millis(t0)));
        }
        if (!java.util.Arrays.equals(magic, QCOW2_MAGIC)) {
            if (!named) {
                close(storage);
                return Optional.empty();
            }
            return Optional.of(raw(storage, path, fileSize, options, t0));
        }
        return Optional.of(qcow2(files, storage, path, fileSize, options, t0));
    }

    /** A named file that is not qcow2: what qemu-img would probe it as, its size and (with --hash) its content's digests. */
    private static ScanRecord raw(Storage storage, String path, long fileSize, ScanOptions options, long t0) {
        Map<String, String> hashes = null;
        String error = null;
        try (storage) {
            if (!options.hashAlgorithms().isEmpty()) hashes = GuestHasher.hash(storage, options.hashAlgorithms());
        } catch (IOException | RuntimeException e) {
            error = ErrorLine.of(e);
        }
        return new ScanRecord(path, fileSize, "raw", fileSize, null, null, null, null, null, List.of(), List.of(),
                null, null, null, hashes, error, millis(t0));
    }

    private static ScanRecord qcow2(ScanFiles files, Storage storage, String path, long fileSize, ScanOptions options, long t0) {
        Optional<Path> local = files.localPath(path);
        // the check needs the image's own metadata only: backing files are listed, not opened (a
        // missing one is a finding of the record, backing[].resolved = false)
        OpenOptions open = new OpenOptions(false, local.isPresent(), 0, null, true).withFollow(options.follow());
        Qcow2Image image;
        try {
            image = Qcow2Image.open(storage, local.orElse(null), open);   // closes storage on failure
        } catch (IOException | RuntimeException e) {
            return new ScanRecord(path, fileSize, "qcow2", null, null, null, null, null, null, null, null, null,
                    null, null, null, ErrorLine.of(e), millis(t0));
        }
        try (image) {
            Qcow2Header h = image.header();
            List<String> features = new ArrayList<>();
            for (FeatureBits.Kind kind : FeatureBits.Kind.values()) {
                long bits = switch (kind) {
                    case INCOMPATIBLE -> h.incompatibleFeatures();
                    case COMPATIBLE -> h.compatibleFeatures();
                    case AUTOCLEAR -> h.autoclearFeatures();
                };
                for (FeatureBits.NamedBit b : FeatureBits.describe(kind, bits, h.featureNames())) features.add(b.name());
            }
            List<String> refused = new ArrayList<>();
            List<ScanRecord.Backing> backing = backingChain(files, path, h, options.followBacking() ? OpenOptions.MAX_CHAIN_DEPTH : 1,
                    options.follow().anchoredAt(local.orElse(null)), refused);

            String error = refused.isEmpty() ? null : refused.getFirst();
            // leaked clusters as one bit each (the checker already holds a counter per host cluster)
            long[] leaked = {0};
            java.util.BitSet leakedClusters = new java.util.BitSet();
            ImageChecker.Scan checked = ImageChecker.scan(image, f -> {
                if (f.type() == Finding.Type.LEAKED_CLUSTER) {
                    leaked[0]++;
                    if (f.cluster() >= 0 && f.cluster() < Integer.MAX_VALUE) leakedClusters.set((int) f.cluster());
                }
            });
            ScanRecord.Check check = ScanRecord.Check.of(checked.report());
            Long unreferenced = null;
            ReferenceCounts refs = checked.references();
            if (refs != null) {
                long n = 0;
                for (int c = leakedClusters.nextSetBit(0); c >= 0; c = leakedClusters.nextSetBit(c + 1)) {
                    if (c < refs.size() && refs.get(c) == 0) n++;
                }
                unreferenced = n;
            }

            List<SnapshotEntry> entries = List.of();
            try {
                entries = image.snapshots();
            } catch (IOException | RuntimeException e) {
                error = "snapshot table: " + ErrorLine.of(e);
            }

            Map<String, String> hashes = null;
            List<ScanRecord.Snapshot> snapshots = new ArrayList<>();
            boolean hashing = !options.hashAlgorithms().isEmpty();
            Qcow2Image guest = null;
            try {
                if (hashing) {
                    guest = guestView(image, local, h, path, options.follow());
                    hashes = GuestHasher.hash(guest, options.hashAlgorithms());
                }
                for (SnapshotEntry s : entries) {
                    Map<String, String> sh = null;
                    if (hashing && options.snapshots()) sh = GuestHasher.hash(guest.snapshot(s), options.hashAlgorithms());
                    snapshots.add(new ScanRecord.Snapshot(s.id(), s.name(), s.dateSec(), s.dateNsec(), s.vmStateSize(), sh));
                }
            } catch (IOException | RuntimeException e) {
                if (error == null) error = "hash: " + ErrorLine.of(e);
                snapshots.clear();
                for (SnapshotEntry s : entries) {
                    snapshots.add(new ScanRecord.Snapshot(s.id(), s.name(), s.dateSec(), s.dateNsec(), s.vmStateSize(), null));
                }
            } finally {
                if (guest != null && guest != image) close(guest);
            }
            return new ScanRecord(path, fileSize, "qcow2", image.size(), (long) h.clusterSize(),
                    h.version() == 2 ? "0.10" : "1.1", features, image.encryptionFormat(),
                    h.version() >= 3 ? h.compressionTypeName() : null, backing, snapshots, check,
                    refs == null ? null : leaked[0], unreferenced, hashes, error, millis(t0));
        } catch (IOException | RuntimeException e) {
            return new ScanRecord(path, fileSize, "qcow2", null, null, null, null, null, null, null, null, null,
                    null, null, null, ErrorLine.of(e), millis(t0));
        }
    }

    /**
     * The image to hash: {@code image} itself when it has no backing file, else the image opened
     * again with its backing chain (only for local files: the chain is resolved by the library's
     * local path_combine).
     */
    private static Qcow2Image guestView(Qcow2Image image, Optional<Path> local, Qcow2Header h, String path, FollowPolicy follow)
            throws IOException {
        if (h.backingFileName() == null) return image;
        if (local.isEmpty()) {
            throw new dev.qcow2.Qcow2Exception(path, "guest content of an image with a backing file is hashed on the local file system only");
        }
        return Qcow2Image.open(local.get(), OpenOptions.permissive().withFollow(follow));
    }

    /**
     * {@code qcow2 hash}: the digests of one local file's guest content, through its backing
     * chain: the active state, or the internal snapshot {@code snapshot} (id or name) when not
     * null. A file without the qcow2 magic is hashed as raw (its bytes), as qemu-img would probe it.
     */
    public static Map<String, String> hash(Path path, String snapshot, List<String> algorithms) throws IOException {
        return hash(path, snapshot, algorithms, FollowPolicy.imageTree());
    }

    /** {@link #hash(Path, String, List)}, following the names inside the image as {@code follow} allows. */
    public static Map<String, String> hash(Path path, String snapshot, List<String> algorithms, FollowPolicy follow) throws IOException {
        boolean qcow2;
        try (Storage s = LocalScanFiles.INSTANCE.open(path.toString())) {
            qcow2 = s.size() >= 4 && java.util.Arrays.equals(s.read(0, 4), QCOW2_MAGIC);
            if (!qcow2) {
                if (snapshot != null) throw new dev.qcow2.Qcow2Exception(path.toString(), "not a qcow2 image: it has no snapshots");
                return GuestHasher.hash(s, algorithms);
            }
        }
        try (Qcow2Image image = Qcow2Image.open(path, OpenOptions.permissive().withFollow(follow))) {
            return GuestHasher.hash(snapshot == null ? image : image.snapshot(snapshot), algorithms);
        }
    }

    /**
     * The backing layers below {@code path}, at most {@code maxDepth}; stops at an unresolved, raw, or looping layer,
     * and before reading a local layer {@code follow} refuses (listed unresolved, its line added to {@code refused}).
     */
    static List<ScanRecord.Backing> backingChain(ScanFiles files, String path, Qcow2Header top, int maxDepth,
                                                 FollowPolicy follow, List<String> refused) {
        List<ScanRecord.Backing> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        seen.add(path);
        String above = path;
        Qcow2Header header = top;
        for (int depth = 1; depth <= maxDepth && header != null && header.backingFileName() != null; depth++) {
            String name = header.backingFileName();
            String full = BackingChain.pathCombine(above, name);
            String format = header.backingFormat().orElse(null);
            Optional<Path> localLayer = files.localPath(full);
            if (localLayer.isPresent() && depth < maxDepth && !"raw".equals(format)) {
                // its header is about to be read: the gate first (the name is listed, the file not touched)
                try {
                    follow.check(above, "backing file", localLayer.get());
                } catch (FollowRefusedException e) {
                    out.add(new ScanRecord.Backing(depth, name, full, format, false));
                    refused.add(e.getMessage());
                    break;
                }
            }
            boolean resolved = files.exists(full);
            out.add(new ScanRecord.Backing(depth, name, full, format, resolved));
            if (!resolved || !seen.add(full) || depth == maxDepth || "raw".equals(format)) break;
            header = readHeader(files, full);
            above = full;
        }
        return out;
    }

    /** The qcow2 header of {@code path}, or null when it is not a readable qcow2 file. */
    private static Qcow2Header readHeader(ScanFiles files, String path) {
        try (Storage s = files.open(path)) {
            if (s.size() < 4 || !java.util.Arrays.equals(s.read(0, 4), QCOW2_MAGIC)) return null;
            return Qcow2Header.read(s);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static long millis(long t0) { return (System.nanoTime() - t0) / 1_000_000; }

    private static void close(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // read-only: nothing to flush, nothing lost
        }
    }
}
