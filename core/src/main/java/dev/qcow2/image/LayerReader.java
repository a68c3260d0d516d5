package dev.qcow2.image;

import dev.qcow2.CorruptImageException;
import dev.qcow2.codec.ClusterDecompressor;
import dev.qcow2.format.L2Entry;
import dev.qcow2.mapping.ClusterMapper;
import dev.qcow2.mapping.Extent;
import dev.qcow2.storage.Storage;
import dev.qcow2.storage.Zeros;
import dev.qcow2.units.GuestOffset;
import dev.qcow2.units.HostOffset;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * The one place where a guest range of one qcow2 layer (the active state or a snapshot of a
 * read-only image, or the image a {@code Qcow2Writer} is writing) becomes host reads: data from
 * the data file, zeros, compressed clusters decompressed, and unallocated ranges from the
 * backing device (zeros past its end or without one). Translation is the {@link ClusterMapper}'s.
 */
public final class LayerReader {
    private final String resource;
    private final ClusterMapper mapper;
    private final Storage imageStorage;
    private final Storage dataStorage;
    private final BlockDevice backing;
    private final ClusterDecompressor decompressor;
    private final Encryption encryption;
    private final boolean immutable;
    private final int clusterSize;
    private final ThreadLocal<DecompressedCluster> lastDecompressed = new ThreadLocal<>();

    private static final class DecompressedCluster {
        long raw = -1;
        byte[] data;
        /** The last compressed input (grown as needed; only its first compressedLength bytes count). */
        byte[] input;
    }

    /**
     * @param encryption the layer's encryption: data extents are decrypted (compressed clusters are
     *                   not: QEMU's qcow2_co_preadv_compressed never decrypts), and without a key they fail
     * @param immutable  the image does not change while this reader lives (a read-only open), so the
     *                   last decompressed cluster of each thread is kept by its descriptor; a writer's
     *                   reader decompresses every time (freed compressed bytes may be reused)
     */
    public LayerReader(String resource, ClusterMapper mapper, Storage imageStorage, Storage dataStorage,
                       BlockDevice backing, ClusterDecompressor decompressor, Encryption encryption, boolean immutable) {
        this.resource = resource;
        this.mapper = mapper;
        this.imageStorage = imageStorage;
        this.dataStorage = dataStorage;
        this.backing = backing;
        this.decompressor = decompressor;
        this.encryption = encryption;
        this.immutable = immutable;
        this.clusterSize = mapper.geometry().clusterSize();
    }

    public ClusterMapper mapper() { return mapper; }

    public Optional<BlockDevice> backing() { return Optional.ofNullable(backing); }

    /** Reads {@code length} guest bytes at {@code guestOffset}; the range must lie below the mapper's size. */
    public void read(GuestOffset guestOffset, byte[] buf, int bufOffset, int length) throws IOException {
        long size = mapper.virtualSize();
        long start = guestOffset.value();
        if (length < 0 || start > size || length > size - start) {
            throw new IllegalArgumentException("read of " + length + " bytes at " + start
                    + " outside the disk (" + size + " bytes)");
        }
        GuestOffset pos = guestOffset;
        int done = 0;
        while (done < length) {
            Extent e = mapper.extent(pos, length - done);
            int n = (int) e.length();
            int at = bufOffset + done;
            switch (e) {
                case Extent.Data d -> readData(d.hostOffset().value(), pos.value(), buf, at, n);
                case Extent.Zero z -> Zeros.fill(buf, at, at + n);
                case Extent.Unallocated u -> readBacking(pos.value(), buf, at, n);
                case Extent.Compressed c -> {
                    if (encryption instanceof Encryption.Locked l) throw l.refusal(resource);
                    byte[] cluster = decompress(c.entry());
                    System.arraycopy(cluster, (int) c.offsetInCluster(), buf, at, n);
                }
            }
            done += n;
            if (done < length) pos = pos.plus(n);
        }
    }

    private void readBacking(long pos, byte[] buf, int off, int n) throws IOException {
        long backingSize = backing == null ? 0 : backing.size();
        int fromBacking = (int) Math.max(0, Math.min(n, backingSize - pos));
        if (fromBacking > 0) backing.read(pos, buf, off, fromBacking);
        Zeros.fill(buf, off + fromBacking, off + n);
    }

    private byte[] decompress(L2Entry.Compressed entry) throws IOException {
        DecompressedCluster cached = lastDecompressed.get();
        if (cached == null) {
            cached = new DecompressedCluster();
            cached.data = new byte[clusterSize];
            lastDecompressed.set(cached);
        }
        if (immutable && cached.raw == entry.raw()) return cached.data;
        int inLength = entry.compressedLength();
        // the compressed bytes go to a per-thread array kept for the next cluster (a new array per
        // cluster was ~5% of a zstd image's convert: allocating and zeroing it)
        byte[] in = cached.input;
        if (in == null || in.length < inLength) cached.input = in = new byte[Math.max(inLength, 4096)];
        imageStorage.readFully(entry.hostOffset(), ByteBuffer.wrap(in, 0, inLength));
        cached.raw = -1;
        if (!decompressor.decompress(in, inLength, cached.data)) {
            throw new CorruptImageException(resource, "compressed cluster", entry.hostOffset(), entry.raw(),
                    "compressed data (" + inLength + " bytes) does not decompress to a full cluster");
        }
        cached.raw = entry.raw();
        return cached.data;
    }

    /** Host bytes of a data run, decrypted when the layer is encrypted (QEMU's qcow2_co_preadv_encrypted). */
    private void readData(long host, long guest, byte[] buf, int at, int n) throws IOException {
        switch (encryption) {
            case Encryption.None none -> dataStorage.readFully(host, ByteBuffer.wrap(buf, at, n));
            case Encryption.Locked locked -> throw locked.refusal(resource);
            case Encryption.Unlocked key -> readDecrypted(key, host, guest, buf, at, n);
        }
    }

    /**
     * Decrypts whole 512-byte sectors only (the cipher's unit, QEMU's request alignment for
     * encrypted images): a run that starts or ends inside a sector reads that whole sector into a
     * scratch buffer. Host and guest offsets move together inside a run, and a run's sector
     * never leaves its cluster, so the scratch sector is contiguous on the host.
     */
    private void readDecrypted(Encryption.Unlocked key, long host, long guest, byte[] buf, int at, int n) throws IOException {
        int sector = Encryption.SECTOR;
        int head = (int) (guest % sector);
        if (head != 0 || n < sector) {
            int take = Math.min(n, sector - head);
            partialSector(key, host - head, guest - head, head, buf, at, take);
            host += take;
            guest += take;
            at += take;
            n -= take;
        }
        int whole = n - n % sector;
        if (whole > 0) {
            dataStorage.readFully(host, ByteBuffer.wrap(buf, at, whole));
            key.decrypt(host, guest, buf, at, whole);
            host += whole;
            guest += whole;
            at += whole;
            n -= whole;
        }
        if (n > 0) partialSector(key, host, guest, 0, buf, at, n);
    }

    private void partialSector(Encryption.Unlocked key, long sectorHost, long sectorGuest, int from, byte[] buf, int at, int n)
            throws IOException {
        byte[] sector = new byte[Encryption.SECTOR];
        dataStorage.readFully(sectorHost, ByteBuffer.wrap(sector));
        key.decrypt(sectorHost, sectorGuest, sector, 0, sector.length);
        System.arraycopy(sector, from, buf, at, n);
        java.util.Arrays.fill(sector, (byte) 0);
    }

    /** The layer's encryption state. */
    public Encryption encryption() { return encryption; }

    /** Whether this layer decides the content at {@code guestOffset} (qemu-io map's "allocated"). */
    public boolean allocated(GuestOffset guestOffset) throws IOException {
        return !(mapper.extent(guestOffset, 1) instanceof Extent.Unallocated);
    }

    BlockStatus blockStatus(GuestOffset guestOffset, long maxLength) throws IOException {
        Extent e = mapper.extent(guestOffset, maxLength);
        // qemu-img map of an encrypted image prints no host offsets (qcow2_co_block_status leaves
        // out BDRV_BLOCK_OFFSET_VALID when s->crypto is set)
        boolean hideOffset = encryption.encrypted();
        long start = e.guestOffset().value();
        return switch (e) {
            case Extent.Data d -> new BlockStatus(start, d.length(), true, false, true, false, hideOffset ? -1 : d.hostOffset().value());
            case Extent.Zero z -> new BlockStatus(start, z.length(), false, true, true, false, hideOffset ? -1 : orNone(z.hostOffset()));
            case Extent.Unallocated u -> new BlockStatus(start, u.length(), false, false, false, false, hideOffset ? -1 : orNone(u.hostOffset()));
            case Extent.Compressed c -> new BlockStatus(start, c.length(), true, false, true, true, -1);
        };
    }

    /** BlockStatus's convention: -1 for "no host offset". */
    private static long orNone(HostOffset host) { return host == null ? -1 : host.value(); }
}
