package dev.qcow2.image;

import dev.qcow2.CorruptImageException;
import dev.qcow2.UnsupportedFeatureException;
import dev.qcow2.codec.ClusterDecompressor;
import dev.qcow2.format.L2Entry;
import dev.qcow2.mapping.ClusterMapper;
import dev.qcow2.mapping.Extent;
import dev.qcow2.storage.Storage;
import dev.qcow2.storage.Zeros;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * Reads guest bytes of one qcow2 layer (the active state or a snapshot) through its mapper:
 * data from the data file, zeros, compressed clusters, and unallocated ranges from the backing
 * device (zeros past its end or without one).
 */
final class LayerReader {
    private final String resource;
    private final ClusterMapper mapper;
    private final Storage imageStorage;
    private final Storage dataStorage;
    private final BlockDevice backing;
    private final ClusterDecompressor decompressor;
    private final String encryption;
    private final int clusterSize;
    private final ThreadLocal<DecompressedCluster> lastDecompressed = new ThreadLocal<>();

    private static final class DecompressedCluster {
        long raw = -1;
        byte[] data;
    }

    LayerReader(String resource, ClusterMapper mapper, Storage imageStorage, Storage dataStorage,
                BlockDevice backing, ClusterDecompressor decompressor, String encryption) {
        this.resource = resource;
        this.mapper = mapper;
        this.imageStorage = imageStorage;
        this.dataStorage = dataStorage;
        this.backing = backing;
        this.decompressor = decompressor;
        this.encryption = encryption;
        this.clusterSize = mapper.geometry().clusterSize();
    }

    ClusterMapper mapper() { return mapper; }

    Optional<BlockDevice> backing() { return Optional.ofNullable(backing); }

    void read(long guestOffset, byte[] buf, int bufOffset, int length) throws IOException {
        long size = mapper.virtualSize();
        if (guestOffset < 0 || length < 0 || guestOffset > size || length > size - guestOffset) {
            throw new IllegalArgumentException("read of " + length + " bytes at " + guestOffset
                    + " outside the disk (" + size + " bytes)");
        }
        long pos = guestOffset;
        int done = 0;
        while (done < length) {
            Extent e = mapper.extent(pos, length - done);
            int n = (int) e.length();
            if (e instanceof Extent.Data d) {
                requireKey();
                dataStorage.readFully(d.hostOffset(), ByteBuffer.wrap(buf, bufOffset + done, n));
            } else if (e instanceof Extent.Zero) {
                Zeros.fill(buf, bufOffset + done, bufOffset + done + n);
            } else if (e instanceof Extent.Unallocated) {
                readBacking(pos, buf, bufOffset + done, n);
            } else if (e instanceof Extent.Compressed c) {
                requireKey();
                byte[] cluster = decompress(c.entry());
                System.arraycopy(cluster, (int) c.offsetInCluster(), buf, bufOffset + done, n);
            }
            pos += n;
            done += n;
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
        if (cached.raw == entry.raw()) return cached.data;
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

    BlockStatus blockStatus(long guestOffset, long maxLength) throws IOException {
        Extent e = mapper.extent(guestOffset, maxLength);
        boolean hideOffset = encryption != null;
        if (e instanceof Extent.Data d) {
            return new BlockStatus(d.guestOffset(), d.length(), true, false, true, false, hideOffset ? -1 : d.hostOffset());
        } else if (e instanceof Extent.Zero z) {
            return new BlockStatus(z.guestOffset(), z.length(), false, true, true, false, hideOffset ? -1 : z.hostOffset());
        } else if (e instanceof Extent.Unallocated u) {
            return new BlockStatus(u.guestOffset(), u.length(), false, false, false, false, hideOffset ? -1 : u.hostOffset());
        } else {
            Extent.Compressed c = (Extent.Compressed) e;
            return new BlockStatus(c.guestOffset(), c.length(), true, false, true, true, -1);
        }
    }
}
