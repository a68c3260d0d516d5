package dev.qcow2.image;

import dev.qcow2.CorruptImageException;
import dev.qcow2.UnsupportedFeatureException;
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
    private final String encryption;
    private final boolean immutable;
    private final int clusterSize;
    private final ThreadLocal<DecompressedCluster> lastDecompressed = new ThreadLocal<>();

    private static final class DecompressedCluster {
        long raw = -1;
        byte[] data;
    }

    /**
     * @param encryption the encryption format's name, or null: data of an encrypted image cannot be read yet
     * @param immutable  the image does not change while this reader lives (a read-only open), so the
     *                   last decompressed cluster of each thread is kept by its descriptor; a writer's
     *                   reader decompresses every time (freed compressed bytes may be reused)
     */
    public LayerReader(String resource, ClusterMapper mapper, Storage imageStorage, Storage dataStorage,
                       BlockDevice backing, ClusterDecompressor decompressor, String encryption, boolean immutable) {
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
                case Extent.Data d -> {
                    requireKey();
                    dataStorage.readFully(d.hostOffset().value(), ByteBuffer.wrap(buf, at, n));
                }
                case Extent.Zero z -> Zeros.fill(buf, at, at + n);
                case Extent.Unallocated u -> readBacking(pos.value(), buf, at, n);
                case Extent.Compressed c -> {
                    requireKey();
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
        byte[] in = new byte[inLength];
        imageStorage.readFully(entry.hostOffset(), ByteBuffer.wrap(in));
        cached.raw = -1;
        if (!decompressor.decompress(in, inLength, cached.data)) {
            throw new CorruptImageException(resource, "compressed cluster", entry.hostOffset(), entry.raw(),
                    "compressed data (" + inLength + " bytes) does not decompress to a full cluster");
        }
        cached.raw = entry.raw();
        return cached.data;
    }

    private void requireKey() throws UnsupportedFeatureException {
        if (encryption != null) {
            throw new UnsupportedFeatureException(resource, "image is encrypted (" + encryption
                    + "); reading its data needs a key, which this version cannot take yet");
        }
    }

    /** Whether this layer decides the content at {@code guestOffset} (qemu-io map's "allocated"). */
    public boolean allocated(GuestOffset guestOffset) throws IOException {
        return !(mapper.extent(guestOffset, 1) instanceof Extent.Unallocated);
    }

    BlockStatus blockStatus(GuestOffset guestOffset, long maxLength) throws IOException {
        Extent e = mapper.extent(guestOffset, maxLength);
        boolean hideOffset = encryption != null;
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
