package dev.qcow2.snapshot;

import dev.qcow2.alloc.RefcountStore;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Recomputes QCOW_OFLAG_COPIED for a tree (qcow2.rst: bit 63 of L1 and L2 entries is set
 * exactly when the refcount of the table or cluster is 1), as QEMU's
 * qcow2_update_snapshot_refcount with addend 0. Compressed and unallocated entries never
 * carry the bit. A shared L2 table (refcount above 1) maps only shared clusters, so changing
 * its entries in place agrees with every tree that uses it.
 */
final class CopiedFlags {
    private final SyncedStorage storage;
    private final L1Tree tree;
    private final RefcountStore refcounts;
    private final ClusterGeometry geo;

    CopiedFlags(SyncedStorage storage, L1Tree tree, RefcountStore refcounts) {
        this.storage = storage;
        this.tree = tree;
        this.refcounts = refcounts;
        this.geo = refcounts.geometry();
    }

    /**
     * Clears the bit in every L2 entry under {@code l1} (on disk) and in {@code l1} (in memory),
     * as it must be once the tree is shared. Done before its references are raised: a crash in
     * between leaves bits missing on unshared clusters (safe, the next write copies), never a
     * bit on a shared one (a write in place would change the snapshot too).
     *
     * @return whether any L1 entry changed (the caller writes the table)
     */
    boolean clearAll(long[] l1) throws IOException {
        boolean l1Changed = false;
        int stride = geo.extendedL2() ? 2 : 1;
        for (int i = 0; i < l1.length; i++) {
            long l2 = tree.l2Offset(l1, i);
            if (l2 == 0) continue;
            long[] table = tree.readL2(l2);
            boolean dirty = false;
            for (int j = 0; j < geo.l2Entries(); j++) {
                if ((table[j * stride] & L2Entry.COPIED) != 0) {
                    table[j * stride] &= ~L2Entry.COPIED;
                    dirty = true;
                }
            }
            if (dirty) {
                ByteBuffer b = ByteBuffer.allocate(geo.clusterSize());
                b.asLongBuffer().put(table);
                storage.write(l2, b.array());
            }
            if ((l1[i] & L1Entry.COPIED) != 0) {
                l1[i] &= ~L1Entry.COPIED;
                l1Changed = true;
            }
        }
        return l1Changed;
    }

    /**
     * Fixes the L2 tables of {@code l1} on disk and the bits of {@code l1} in memory.
     *
     * @return whether any L1 entry changed (the caller writes the table)
     */
    boolean recompute(long[] l1) throws IOException {
        boolean l1Changed = false;
        int stride = geo.extendedL2() ? 2 : 1;
        for (int i = 0; i < l1.length; i++) {
            long l2 = tree.l2Offset(l1, i);
            if (l2 == 0) continue;
            long[] table = tree.readL2(l2);
            boolean dirty = false;
            for (int j = 0; j < geo.l2Entries(); j++) {
                long raw = table[j * stride];
                L2Entry e = tree.decode(table, j);
                long[] r = e instanceof L2Entry.Compressed ? null : tree.referenced(e);
                boolean copied = r != null && refcounts.get(r[0] >>> geo.clusterBits()) == 1;
                long want = copied ? raw | L2Entry.COPIED : raw & ~L2Entry.COPIED;
                if (want != raw) {
                    table[j * stride] = want;
                    dirty = true;
                }
            }
            if (dirty) {
                ByteBuffer b = ByteBuffer.allocate(geo.clusterSize());
                b.asLongBuffer().put(table);
                storage.write(l2, b.array());
            }
            boolean copied = refcounts.get(l2 >>> geo.clusterBits()) == 1;
            long want = copied ? l1[i] | L1Entry.COPIED : l1[i] & ~L1Entry.COPIED;
            if (want != l1[i]) {
                l1[i] = want;
                l1Changed = true;
            }
        }
        return l1Changed;
    }
}
