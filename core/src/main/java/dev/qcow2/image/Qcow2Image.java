package dev.qcow2.image;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.codec.ClusterDecompressor;
import dev.qcow2.crypto.SecretLookup;
import dev.qcow2.format.BitmapDirectory;
import dev.qcow2.format.BitmapDirectoryEntry;
import dev.qcow2.format.CompressionType;
import dev.qcow2.format.HeaderContradiction;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.format.SnapshotTable;
import dev.qcow2.mapping.ClusterMapper;
import dev.qcow2.mapping.L1Table;
import dev.qcow2.mapping.L2Cache;
import dev.qcow2.storage.FileStorage;
import dev.qcow2.storage.Storage;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.units.GuestOffset;
import dev.qcow2.units.HostOffset;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A qcow2 image opened read-only: header, active state, snapshots, bitmaps and the backing
 * chain. Opening never writes: the file is opened without write access, and dirty,
 * corrupt-flagged or lazy-refcount images are read as they are, without repair.
 */
public final class Qcow2Image implements BlockDevice {
    private final Storage storage;
    private final Qcow2Header header;
    private final Storage dataStorage;
    private final BackingChain.Link backingLink;
    private final L2Cache l2Cache;
    private final LayerReader active;
    private final Path path;
    private final Encryption encryption;
    /** The header the read path uses: {@link #header} unless a tolerant open ignored contradictions. */
    private final Qcow2Header readHeader;
    private final List<HeaderContradiction> ignored;
    private volatile List<SnapshotEntry> snapshots;

    private Qcow2Image(Storage storage, Path path, Qcow2Header header, Storage dataStorage,
                       BackingChain.Link backingLink, L2Cache l2Cache, LayerReader active, Encryption encryption,
                       Qcow2Header readHeader, List<HeaderContradiction> ignored) {
        this.storage = storage;
        this.readHeader = readHeader;
        this.ignored = ignored;
        this.path = path;
        this.header = header;
        this.dataStorage = dataStorage;
        this.backingLink = backingLink;
        this.l2Cache = l2Cache;
        this.active = active;
        this.encryption = encryption;
    }

    /** Opens {@code path} read-only with the library's defaults (backing and data files not followed). */
    public static Qcow2Image open(Path path) throws IOException {
        return open(path, OpenOptions.defaults());
    }

    /** Opens {@code path}; names inside it are followed as {@code options} say, anchored at {@code path} ({@link FollowPolicy}). */
    public static Qcow2Image open(Path path, OpenOptions options) throws IOException {
        return BackingChain.openQcow2(path, options.withFollow(options.follow().anchoredAt(path)), new BackingChain.Visited());
    }

    /**
     * Opens a qcow2 image over {@code storage} (e.g. a wrapper that counts reads); backing and
     * data files are resolved relative to {@code path} (may be null). Closing the image closes
     * {@code storage}.
     */
    public static Qcow2Image open(Storage storage, Path path, OpenOptions options) throws IOException {
        return open(storage, path, options.withFollow(options.follow().anchoredAt(path)), new BackingChain.Visited());
    }

    /** Opens a qcow2 image over any storage; backing and data files are resolved relative to {@code path} (may be null). */
    static Qcow2Image open(Storage storage, Path path, OpenOptions options, BackingChain.Visited visited) throws IOException {
        Encryption encryption = null;
        try {
            Qcow2Header asRead = Qcow2Header.read(storage, options.forCheck());
            // qcow2_do_open's refusals of a header that contradicts itself, in QEMU's order; a
            // tolerant open reads past them with the promise dropped, and says so (ignored)
            List<HeaderContradiction> ignored = HeaderContradiction.refusedBy(asRead, options.metadataOnly());
            if (!ignored.isEmpty() && !options.tolerant()) throw ignored.getFirst().refusal(storage.describe());
            Qcow2Header header = HeaderContradiction.ignoringAll(asRead, ignored);
            ClusterGeometry geo = header.geometry();
            long cacheBytes = options.l2CacheBytes() > 0 ? options.l2CacheBytes()
                    : L2Cache.defaultBytes(header.size(), header.clusterSize(), geo.l2EntrySize());
            L2Cache cache = new L2Cache(cacheBytes, header.clusterSize(),
                    at -> ClusterMapper.readTable(storage, at.value(), geo.clusterSize() / 8));
            long[] l1 = ClusterMapper.readTable(storage, header.l1TableOffset(), (int) header.l1Size());
            Storage dataStorage = BackingChain.openDataFile(storage, path, header, options);
            // the key is checked before the backing file is opened, as QEMU's qcow2_do_open does;
            // this layer is depth 0 of options.secrets() (a backing layer gets a lookup one level down)
            encryption = Encryption.open(storage.describe(), storage, header, options.secrets(),
                    new SecretLookup.Layer(path, 0, Optional.empty()));
            BackingChain.Link link = BackingChain.openBacking(storage, path, header, options, visited);
            ClusterMapper mapper = new ClusterMapper(storage.describe(), geo, L1Table.fixed(new HostOffset(header.l1TableOffset()), l1),
                    guestSize(header), cache, header.hasExternalDataFile(), header.version());
            LayerReader reader = new LayerReader(storage.describe(), mapper, storage, dataStorage,
                    link == null ? null : link.device(), ClusterDecompressor.of(CompressionType.of(header.compressionType())),
                    encryption, true);
            return new Qcow2Image(storage, path, asRead, dataStorage, link, cache, reader, encryption, header, ignored);
        } catch (IOException | RuntimeException e) {
            if (encryption != null) encryption.close();
            storage.close();
            throw e;
        }
    }

    /** Opens {@code path} for reading only, as a FileStorage. */
    static Storage openStorage(Path path) throws IOException {
        return FileStorage.openReadOnly(path);
    }

    /** The header as read from the file (also when a tolerant open read past contradictions in it). */
    public Qcow2Header header() { return header; }

    /** The header contradictions a tolerant open ignored, in QEMU's order; empty otherwise. */
    public List<HeaderContradiction> ignoredContradictions() { return ignored; }

    public ClusterGeometry geometry() { return header.geometry(); }

    public Storage storage() { return storage; }

    /** The storage guest data lives in: the external data file if there is one, else the image. */
    public Storage dataStorage() { return dataStorage; }

    /** The path this image was opened from, or null. */
    public Path path() { return path; }

    public ClusterMapper mapper() { return active.mapper(); }

    public L2Cache l2Cache() { return l2Cache; }

    public boolean encrypted() { return header.cryptMethod() != Qcow2Header.CRYPT_NONE; }

    public String encryptionFormat() { return Encryption.formatOf(header); }

    /** The encryption state: none, encrypted without a key (metadata only), or unlocked. */
    public Encryption encryption() { return encryption; }

    /** The backing file name recorded in the image, resolved as QEMU does, or empty. */
    public Optional<BackingChain.Link> backingLink() { return Optional.ofNullable(backingLink); }

    @Override public String describe() { return storage.describe(); }

    /** The guest-visible size: QEMU counts whole sectors (bs->total_sectors = size / 512), dropping a partial last one. */
    @Override public long size() { return guestSize(header); }

    static long guestSize(Qcow2Header header) { return header.size() & ~511L; }

    @Override public String format() { return "qcow2"; }

    @Override
    public void read(GuestOffset guestOffset, byte[] buf, int bufOffset, int length) throws IOException {
        if (ParallelRead.worthIt(length)) {
            // bounds first, on this thread, with the reader's own message
            long start = guestOffset.value();
            if (length < 0 || start < 0 || start > size() || length > size() - start) {
                active.read(guestOffset, buf, bufOffset, length);
                return;
            }
            ParallelRead.read((at, b, o, n) -> active.read(new GuestOffset(at), b, o, n),
                    start, buf, bufOffset, length, header.clusterSize());
        } else {
            active.read(guestOffset, buf, bufOffset, length);
        }
    }

    @Override
    public BlockStatus blockStatus(GuestOffset guestOffset, long maxLength) throws IOException {
        return active.blockStatus(guestOffset, maxLength);
    }

    @Override public Optional<BlockDevice> backing() { return active.backing(); }

    /** The internal snapshots, in table order. */
    public List<SnapshotEntry> snapshots() throws IOException {
        List<SnapshotEntry> s = snapshots;
        if (s == null) {
            s = header.nbSnapshots() == 0 ? List.of() : SnapshotTable.read(storage, header);
            snapshots = s;
        }
        return s;
    }

    /** Finds a snapshot by ID first, then by name (as qemu-img convert -l does). */
    public Optional<SnapshotEntry> findSnapshot(String idOrName) throws IOException {
        for (SnapshotEntry s : snapshots()) if (s.id().equals(idOrName)) return Optional.of(s);
        for (SnapshotEntry s : snapshots()) if (s.name().equals(idOrName)) return Optional.of(s);
        return Optional.empty();
    }

    /**
     * A read-only view of the disk as it was when {@code snapshot} was taken, as qemu-img reads
     * it with {@code -l}: the snapshot's mapping at the image's current virtual size.
     */
    public BlockDevice snapshot(SnapshotEntry snapshot) throws IOException {
        // As qemu-img convert -l (QEMU's qcow2_snapshot_load_tmp): only the L1 table is switched;
        // the disk keeps the image's current virtual size, and guest clusters past the snapshot's
        // L1 table (a snapshot taken before a resize) read as unallocated: backing file or zeros.
        // The size recorded in the snapshot stays available as snapshot.diskSize().
        LayerReader reader = new LayerReader(storage.describe(), mapper(snapshot), storage, dataStorage,
                active.backing().orElse(null), ClusterDecompressor.of(CompressionType.of(header.compressionType())),
                encryption, true);
        return new SnapshotView(this, snapshot, reader);
    }

    /** Guest-to-host lookups through {@code snapshot}'s L1 table, sharing this image's L2 cache. */
    public ClusterMapper mapper(SnapshotEntry snapshot) throws IOException {
        SnapshotTable.validateL1(storage.describe(), snapshot, header.clusterSize());
        long[] l1 = ClusterMapper.readTable(storage, snapshot.l1TableOffset(), (int) snapshot.l1Size());
        return new ClusterMapper(storage.describe(), header.geometry(), L1Table.fixed(new HostOffset(snapshot.l1TableOffset()), l1),
                guestSize(header), l2Cache, readHeader.hasExternalDataFile(), header.version());
    }

    /**
     * A reader of {@code snapshot}'s guest space without the disk-size limit, for the VM state
     * that {@code savevm} stores past the disk (QEMU's qcow2_load_vmstate reads it through the
     * snapshot's L1 table at qcow2_vm_state_offset). Callers bound their reads themselves.
     */
    public LayerReader vmStateReader(SnapshotEntry snapshot) throws IOException {
        SnapshotTable.validateL1(storage.describe(), snapshot, header.clusterSize());
        long[] l1 = ClusterMapper.readTable(storage, snapshot.l1TableOffset(), (int) snapshot.l1Size());
        ClusterMapper unbounded = new ClusterMapper(storage.describe(), header.geometry(),
                L1Table.fixed(new HostOffset(snapshot.l1TableOffset()), l1), Long.MAX_VALUE, l2Cache,
                readHeader.hasExternalDataFile(), header.version());
        return new LayerReader(storage.describe(), unbounded, storage, dataStorage,
                active.backing().orElse(null), ClusterDecompressor.of(CompressionType.of(header.compressionType())),
                encryption, true);
    }

    public BlockDevice snapshot(String idOrName) throws IOException {
        SnapshotEntry s = findSnapshot(idOrName).orElseThrow(() -> new Qcow2Exception(storage.describe(),
                "Failed to load snapshot: snapshot '" + idOrName + "' not found"));
        return snapshot(s);
    }

    /** The persistent bitmaps (empty when there are none or they are marked inconsistent). */
    public List<BitmapDirectoryEntry> bitmaps() throws IOException {
        return BitmapDirectory.read(storage, header);
    }

    /** Reads one bitmap's bits. */
    public BitmapReader bitmap(BitmapDirectoryEntry entry) throws IOException {
        return BitmapReader.load(storage, header, entry);
    }

    @Override
    public void close() throws IOException {
        try {
            if (backingLink != null && backingLink.device() != null) backingLink.device().close();
            if (dataStorage != storage) dataStorage.close();
        } finally {
            encryption.close();
            storage.close();
        }
    }
}
