package dev.qcow2.snapshot;

import dev.qcow2.CorruptImageException;
import dev.qcow2.alloc.RefcountStore;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.CopiedRule;
import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import dev.qcow2.mapping.L1Table;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.walk.Tree;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Recomputes QCOW_OFLAG_COPIED for a tree by the {@link CopiedRule}, as QEMU's
 * qcow2_update_snapshot_refcount with addend 0: entries the rule does not govern (compressed,
 * unallocated) lose the bit. A shared L2 table (refcount above 1) maps only shared clusters,
 * so changing its entries in place agrees with every tree that uses it.
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
     * Clears the bit in every L2 entry under {@code l1} (on disk) and in {@code l1}'s entries (in
     * memory), as it must be once the tree is shared. Done before its references are raised: a
     * crash in between leaves bits missing on unshared clusters (safe, the next write copies),
     * never a bit on a shared one (a write in place would change the snapshot too).
     *
     * @return whether any L1 entry changed (the caller writes the table)
     */
    boolean clearAll(Tree which, L1Table l1) throws IOException {
        long[] entries = l1.entries();
        boolean[] l1Changed = {false};
        tree.tables(which, l1, (i, l2, table) -> {
            ByteBuffer copy = null;
            for (int j = 0; j < geo.l2Entries(); j++) {
                int at = j * geo.l2EntrySize();
                long raw = table.getLong(at);
                if ((raw & L2Entry.COPIED) != 0) {
                    if (copy == null) copy = copyOf(table);
                    copy.putLong(at, raw & ~L2Entry.COPIED);
                }
            }
            if (copy != null) storage.write(l2, copy.array());
            if ((entries[i] & L1Entry.COPIED) != 0) {
                entries[i] &= ~L1Entry.COPIED;
                l1Changed[0] = true;
            }
        });
        return l1Changed[0];
    }

    /**
     * Fixes the L2 tables of the active {@code l1} on disk and the bits of its entries in memory.
     *
     * @return whether any L1 entry changed (the caller writes the table)
     */
    boolean recompute(L1Table l1) throws IOException {
        long[] entries = l1.entries();
        boolean[] l1Changed = {false};
        tree.tables(Tree.ACTIVE, l1, (i, l2, table) -> {
            ByteBuffer copy = copyOf(table);
            boolean[] dirty = {false};
            CopiedRule.scanL2(table, l2, geo, false, true, (host, at) -> {
                if (!geo.isClusterAligned(host)) {
                    throw new CorruptImageException(storage.describe(), "L2 table", at, null,
                            "Cluster allocation offset 0x" + Long.toHexString(host) + " unaligned");
                }
                return refcounts.get(host >>> geo.clusterBits());
            }, (j, raw, wanted, rc) -> {
                copy.putLong(j * geo.l2EntrySize(), wanted);
                dirty[0] = true;
            });
            if (dirty[0]) storage.write(l2, copy.array());
            long want = CopiedRule.apply(entries[i], refcounts.get(l2 >>> geo.clusterBits()));
            if (want != entries[i]) {
                entries[i] = want;
                l1Changed[0] = true;
            }
        });
        return l1Changed[0];
    }

    private static ByteBuffer copyOf(ByteBuffer table) {
        byte[] bytes = new byte[table.capacity()];
        table.get(0, bytes);
        return ByteBuffer.wrap(bytes);
    }
}
