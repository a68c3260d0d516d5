package dev.qcow2.amend;

import dev.qcow2.UnsupportedFeatureException;
import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.RefcountStore;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.FeatureBits;
import dev.qcow2.format.L2Entry;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.format.SnapshotTable;
import dev.qcow2.snapshot.Snapshots;
import dev.qcow2.walk.MetadataVisitor;
import dev.qcow2.walk.MetadataWalk;
import dev.qcow2.walk.Owner;
import dev.qcow2.walk.Tree;

import java.io.IOException;
import java.util.List;

/**
 * Version changes as QEMU 7.2's qcow2_upgrade and qcow2_downgrade (block/qcow2.c), with their
 * refusals and messages.
 */
final class CompatChange {
    private CompatChange() { }

    /**
     * v2 to v3: snapshot entries without the v3 extra data (VM state size, disk size) are
     * rewritten first, then the header becomes v3 with no features set.
     */
    static void upgrade(SyncedStorage storage, Qcow2Header h) throws IOException {
        List<SnapshotEntry> snaps = SnapshotTable.read(storage.raw(), h);
        if (snaps.stream().anyMatch(s -> s.extraDataSize() < SnapshotEntry.V3_MIN_EXTRA_DATA)) {
            Snapshots.rewriteTable(storage, allocator(storage, h), h);
            h = Qcow2Header.read(storage.raw());
        }
        HeaderCluster.State s = HeaderCluster.State.of(h).version(3).features(0, 0, 0);
        HeaderCluster.write(storage, h, s);
    }

    /** v3 to v2; refuses, with QEMU's messages, what v2 cannot express. */
    static void downgrade(SyncedStorage storage, Qcow2Header h, boolean backed) throws IOException {
        String res = storage.describe();
        if (h.refcountOrder() != 4) throw new UnsupportedFeatureException(res, "compat=0.10 requires refcount_bits=16");
        if (h.hasExternalDataFile()) throw new UnsupportedFeatureException(res, "Cannot downgrade an image with a data file");
        List<SnapshotEntry> snaps = SnapshotTable.read(storage.raw(), h);
        long size = h.size() & ~511L;
        for (SnapshotEntry s : snaps) {
            SnapshotTable.validateL1(res, s, h.clusterSize());   // before anything is written
            if (s.vmStateSize() > 0xffff_ffffL || s.diskSize() != size) {
                throw new UnsupportedFeatureException(res, "Internal snapshots prevent downgrade of image");
            }
        }
        long incompatible = h.incompatibleFeatures() & ~FeatureBits.INCOMPAT_COMPRESSION;
        if (incompatible != 0) {
            throw new UnsupportedFeatureException(res, "Cannot downgrade an image with incompatible features 0x"
                    + Long.toHexString(incompatible) + " set");
        }
        ClusterAllocator allocator = allocator(storage, h);
        ZeroExpansion zeros = new ZeroExpansion(storage, h, allocator, backed);
        zeros.expand(Tree.ACTIVE, h.l1TableOffset(), h.l1Size());
        for (SnapshotEntry s : snaps) zeros.expand(new Tree.Snapshot(s.id(), s.name()), s.l1TableOffset(), s.l1Size());
        storage.barrier();
        if (h.compressionType() != Qcow2Header.COMPRESSION_ZLIB) {
            // QEMU looks at the active disk only; compressed clusters in a snapshot would be unreadable as zlib too.
            boolean compressed = hasCompressed(storage, h, Tree.ACTIVE, h.l1TableOffset(), h.l1Size());
            for (SnapshotEntry s : snaps) {
                compressed |= hasCompressed(storage, h, new Tree.Snapshot(s.id(), s.name()), s.l1TableOffset(), s.l1Size());
            }
            if (compressed) {
                throw new UnsupportedFeatureException(res, "Cannot downgrade an image with zstd compression type and existing compressed clusters");
            }
        }
        HeaderCluster.State s = HeaderCluster.State.of(h).version(2).features(0, 0, 0).compression(Qcow2Header.COMPRESSION_ZLIB);
        HeaderCluster.write(storage, h, s);
    }

    private static boolean hasCompressed(SyncedStorage storage, Qcow2Header h, Tree which, long l1Offset, long l1Size)
            throws IOException {
        boolean[] found = {false};
        MetadataWalk walk = new MetadataWalk(storage.raw(), h);
        walk.tree(which, l1Offset, l1Size, new MetadataVisitor<RuntimeException>() {
            @Override public void range(Owner owner, long offset, long length) { }

            @Override public boolean l2Entry(Tree tree, long guest, int index, long at, long raw, long bitmap) {
                if (walk.decode(raw, bitmap) instanceof L2Entry.Compressed) found[0] = true;
                return false;
            }
        });
        return found[0];
    }

    static ClusterAllocator allocator(SyncedStorage storage, Qcow2Header h) throws IOException {
        RefcountStore refcounts = new RefcountStore(storage, h.geometry(), h.refcountTableOffset(), (int) h.refcountTableClusters());
        return new ClusterAllocator(storage, refcounts);
    }
}
