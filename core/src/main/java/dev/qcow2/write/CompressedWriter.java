package dev.qcow2.write;

import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.L2Entry;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.util.Arrays;

/**
 * Compressed cluster writes, as QEMU's qcow2_co_pwritev_compressed_task and
 * qcow2_alloc_compressed_cluster_offset: the compressed bytes must fit in cluster_size - 1
 * (otherwise a normal write), are packed byte-granular after the previous compressed cluster
 * (qcow2_alloc_bytes), and the entry records the host offset and the number of additional
 * 512-byte sectors the payload touches. Unlike QEMU, which fails with EIO when the guest
 * cluster is already allocated, the old cluster is replaced (and released after the new entry
 * is durable).
 */
final class CompressedWriter {
    private final SyncedStorage storage;
    private final ClusterGeometry geo;
    private final L2Tables tables;
    private final ClusterAllocator allocator;
    private final DataWriter data;
    private final ClusterCompressor compressor;

    CompressedWriter(SyncedStorage storage, ClusterGeometry geo, L2Tables tables, ClusterAllocator allocator,
                     DataWriter data, ClusterCompressor compressor) {
        this.storage = storage;
        this.geo = geo;
        this.tables = tables;
        this.allocator = allocator;
        this.data = data;
        this.compressor = compressor;
    }

    void write(long guestOffset, byte[] cluster) throws IOException {
        int cs = geo.clusterSize();
        byte[] full = cluster.length == cs ? cluster : Arrays.copyOf(cluster, cs);
        writePacked(guestOffset, cluster, compressor.compress(full, cs - 1));
    }

    /** As {@link #write}, with the cluster already compressed ({@code packed}; null = did not fit). */
    void writePacked(long guestOffset, byte[] cluster, byte[] packed) throws IOException {
        int cs = geo.clusterSize();
        if (packed != null && packed.length > cs - 1) packed = null;
        if (packed == null) {
            data.write(guestOffset, cluster, 0, cluster.length);
            return;
        }
        L2Tables.Slot slot = tables.writable(guestOffset);
        L2Entry old = tables.entry(slot);
        long host = allocator.allocateBytes(packed.length);
        storage.write(host, packed);
        long raw = L2Entry.compressed(host, L2Entry.sectorsSpanned(host, packed.length), geo).raw();
        Updates updates = new Updates();
        updates.add(slot, raw, 0, Updates.hasHost(old) ? old : null);
        updates.commit(storage, tables, allocator, geo);
    }
}
