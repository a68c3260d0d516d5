package dev.qcow2.amend;

import dev.qcow2.CorruptImageException;
import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.RefcountStore;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.L1Entry;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.walk.MetadataVisitor;
import dev.qcow2.walk.MetadataWalk;
import dev.qcow2.walk.Owner;
import dev.qcow2.walk.Tree;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * QEMU's qcow2_expand_zero_clusters (block/qcow2-cluster.c) for a downgrade to v2, which has no
 * zero flag: in the active L1 and every snapshot's L1, each zero cluster becomes a cluster that
 * reads as zeros. Without a backing file an unallocated entry does; with one, a new cluster is
 * allocated (its refcount set to the L2 table's, since every L1 sharing the table shares it)
 * and filled with zeros. A preallocated zero cluster is zeroed in place when every reference
 * to it comes through this L2 table.
 *
 * <p>Unlike QEMU 7.2, a preallocated zero cluster still shared with another L2 table (a
 * snapshot taken before the zero write) is not zeroed in place, which would change the
 * snapshot's data and leave a wrong OFLAG_COPIED: it gets a new zeroed cluster instead and
 * the shared one loses this table's references.
 *
 * <p>Crash safety, per L2 table: new clusters' refcounts and zeros are written and flushed
 * before the table points at them; the table is written and flushed before shared clusters
 * lose references. A crash leaves every entry reading zeros, at worst with leaked clusters.
 */
final class ZeroExpansion {
    static final long ZERO_FLAG = 1L;
    static final long COMPRESSED = 1L << 62;
    static final long COPIED = 1L << 63;
    static final long OFFSET_MASK = 0x00ff_ffff_ffff_fe00L;

    private final SyncedStorage storage;
    private final ClusterGeometry geo;
    private final ClusterAllocator allocator;
    private final RefcountStore refcounts;
    private final boolean backed;

    private final MetadataWalk walk;

    ZeroExpansion(SyncedStorage storage, Qcow2Header header, ClusterAllocator allocator, boolean backed) {
        this.storage = storage;
        this.geo = header.geometry();
        this.walk = new MetadataWalk(storage.raw(), header);
        this.allocator = allocator;
        this.refcounts = allocator.refcounts();
        this.backed = backed;
    }

    /** Expands the zero clusters of every L2 table that {@code which}'s L1 table at {@code l1Offset} names. */
    void expand(Tree which, long l1Offset, long l1Size) throws IOException {
        walk.tree(which, l1Offset, l1Size, new MetadataVisitor<RuntimeException>() {
            @Override public void range(Owner owner, long offset, long length) { }

            @Override
            public boolean l1Entry(Tree tree, int i, long entryOffset, long raw) throws CorruptImageException {
                return L1Entry.checkedL2Offset(storage.describe(), geo, i, entryOffset, raw) != 0;
            }

            @Override public boolean l2Entry(Tree tree, long guest, int index, long at, long raw, long bitmap) { return false; }

            @Override
            public void l2TableDone(Tree tree, int l1Index, long l1Raw, long l2Offset, ByteBuffer table) throws IOException {
                long[] entries = new long[geo.l2Entries()];
                table.asLongBuffer().get(0, entries);
                expandTable(l2Offset, entries);
            }
        });
    }

    private void expandTable(long l2, long[] table) throws IOException {
        long l2Refcount = refcounts.get(l2 >>> geo.clusterBits());
        List<long[]> released = new ArrayList<>();   // {offset, references to drop}
        boolean dirty = false;
        byte[] zeros = null;
        for (int j = 0; j < table.length; j++) {
            long raw = table[j];
            if ((raw & COMPRESSED) != 0 || (raw & ZERO_FLAG) == 0) continue;
            long offset = raw & OFFSET_MASK;
            if (offset != 0 && !geo.isClusterAligned(offset)) {
                throw new CorruptImageException(storage.describe(), "L2 table", l2 + 8L * j, raw, "Cluster allocation offset 0x"
                        + Long.toHexString(offset) + " unaligned (L2 offset: 0x" + Long.toHexString(l2) + ", L2 index: 0x" + Integer.toHexString(j) + ")");
            }
            dirty = true;
            if (offset == 0 && !backed) {
                table[j] = 0;
                continue;
            }
            if (zeros == null) zeros = new byte[geo.clusterSize()];
            if (offset != 0 && refcounts.get(offset >>> geo.clusterBits()) == l2Refcount) {
                storage.write(offset, zeros);
                table[j] = offset | (l2Refcount == 1 ? COPIED : 0);
                continue;
            }
            long fresh = allocator.allocate(geo.clusterSize());
            if (l2Refcount > 1) {
                // Every L1 sharing this table references the new cluster (QEMU: refcount_diff(1, l2_refcount)).
                for (long k = 1; k < l2Refcount; k++) allocator.reference(fresh, geo.clusterSize());
            }
            storage.write(fresh, zeros);
            table[j] = fresh | (l2Refcount == 1 ? COPIED : 0);
            if (offset != 0) released.add(new long[]{offset, l2Refcount});
        }
        if (!dirty) return;
        storage.barrier();
        ByteBuffer bytes = ByteBuffer.allocate(geo.clusterSize());
        bytes.asLongBuffer().put(table);
        storage.write(l2, bytes.array());
        storage.barrier();
        for (long[] r : released) {
            for (long k = 0; k < r[1]; k++) allocator.free(r[0], geo.clusterSize());
        }
    }
}
