package dev.qcow2.write;

import dev.qcow2.CorruptImageException;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.codec.ClusterDecompressor;
import dev.qcow2.format.L2Entry;
import dev.qcow2.format.SubclusterType;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import dev.qcow2.storage.Zeros;

/**
 * Reads the guest view of the image being written, through the writer's own tables: the
 * source of copy-on-write and of {@code qcow2 io read}. Unallocated ranges read from the
 * backing device (zeros past its end) or as zeros.
 */
final class GuestReader {
    private final SyncedStorage storage;
    private final ClusterGeometry geo;
    private final L2Tables tables;
    private final BlockDevice backing;
    private final ClusterDecompressor decompressor;

    GuestReader(SyncedStorage storage, ClusterGeometry geo, L2Tables tables, BlockDevice backing, ClusterDecompressor decompressor) {
        this.storage = storage;
        this.geo = geo;
        this.tables = tables;
        this.backing = backing;
        this.decompressor = decompressor;
    }

    /** Reads guest bytes; the range need not stop at the disk's end (the last cluster is read whole for COW). */
    void read(long guestOffset, byte[] buf, int off, int len) throws IOException {
        while (len > 0) {
            int inCluster = (int) geo.offsetInCluster(guestOffset);
            int n = Math.min(len, geo.clusterSize() - inCluster);
            readInCluster(guestOffset, inCluster, buf, off, n);
            guestOffset += n;
            off += n;
            len -= n;
        }
    }

    private void readInCluster(long guestOffset, int inCluster, byte[] buf, int off, int len) throws IOException {
        L2Entry e = tables.entry(guestOffset);
        if (e instanceof L2Entry.Compressed c) {
            byte[] cluster = decompress(c, guestOffset);
            System.arraycopy(cluster, inCluster, buf, off, len);
            return;
        }
        int sc = geo.subclusterSize();
        while (len > 0) {
            int index = inCluster / sc;
            int n = Math.min(len, sc - inCluster % sc);
            SubclusterType type = e == null ? SubclusterType.UNALLOCATED_PLAIN : e.subcluster(index);
            switch (type) {
                case NORMAL -> {
                    long host = ((L2Entry.Normal) e).hostOffset() + inCluster;
                    byte[] data = storage.read(host, n);
                    System.arraycopy(data, 0, buf, off, n);
                }
                case ZERO_PLAIN, ZERO_ALLOC -> Zeros.fill(buf, off, off + n);
                case UNALLOCATED_PLAIN, UNALLOCATED_ALLOC -> readBacking(guestOffset, buf, off, n);
                default -> throw new CorruptImageException(storage.describe(), "L2 table", -1, e.raw(),
                        "invalid subcluster bitmap for guest offset 0x" + Long.toHexString(guestOffset));
            }
            guestOffset += n;
            inCluster += n;
            off += n;
            len -= n;
        }
    }

    /** The whole guest cluster a compressed entry stores. */
    byte[] decompress(L2Entry.Compressed c, long guestOffset) throws IOException {
        int length = c.compressedLength();
        byte[] in = storage.read(c.hostOffset(), length);
        byte[] out = new byte[geo.clusterSize()];
        if (!decompressor.decompress(in, length, out)) {
            throw new CorruptImageException(storage.describe(), "compressed cluster", -1, c.hostOffset(),
                    "cannot decompress the cluster at guest offset 0x" + Long.toHexString(guestOffset - geo.offsetInCluster(guestOffset)));
        }
        return out;
    }

    void readBacking(long guestOffset, byte[] buf, int off, int len) throws IOException {
        long available = backing == null ? 0 : Math.max(0, Math.min(len, backing.size() - guestOffset));
        if (available > 0) backing.read(guestOffset, buf, off, (int) available);
        Zeros.fill(buf, off + (int) available, off + len);
    }

    /** Whether this layer decides the content at {@code guestOffset} (qemu-io map's "allocated"). */
    boolean allocated(long guestOffset) throws IOException {
        L2Entry e = tables.entry(guestOffset);
        if (e == null) return false;
        int index = (int) geo.offsetInCluster(guestOffset) / geo.subclusterSize();
        return !e.subcluster(index).readsFromBacking();
    }
}
