package dev.qcow2.snapshot;

import dev.qcow2.CorruptImageException;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import dev.qcow2.mapping.ClusterMapper;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;

/**
 * The host ranges one L1 table holds references on (qcow2.rst "Host cluster management"):
 * each L2 table it names, and each host cluster those tables map, as QEMU's
 * qcow2_update_snapshot_refcount counts them: normal and preallocated-zero entries one
 * cluster, compressed entries every host cluster their payload touches.
 */
final class L1Tree {
    /** Receives one referenced range of the host file. */
    interface RangeVisitor {
        void range(long offset, long length) throws IOException;
    }

    private final SyncedStorage storage;
    private final ClusterGeometry geo;

    L1Tree(SyncedStorage storage, ClusterGeometry geo) {
        this.storage = storage;
        this.geo = geo;
    }

    /** The L2 table offset of an L1 entry, checked for alignment like QEMU; 0 when none. */
    long l2Offset(long[] l1, int i) throws CorruptImageException {
        long off = l1[i] & L1Entry.OFFSET_MASK;
        if (off != 0 && !geo.isClusterAligned(off)) {
            throw new CorruptImageException(storage.describe(), "L1 table", i, off,
                    "L2 table offset 0x" + Long.toHexString(off) + " unaligned (L1 index: 0x" + Integer.toHexString(i) + ")");
        }
        return off;
    }

    long[] readL2(long offset) throws IOException {
        return ClusterMapper.readTable(storage.raw(), offset, geo.clusterSize() / 8);
    }

    L2Entry decode(long[] l2, int index) {
        return geo.extendedL2()
                ? L2Entry.decode(l2[2 * index], l2[2 * index + 1], geo, false)
                : L2Entry.decode(l2[index], 0, geo, false);
    }

    /** The host range an L2 entry references, or null when it references none. */
    long[] referenced(L2Entry e) throws CorruptImageException {
        if (e instanceof L2Entry.Compressed c) {
            return new long[]{c.hostOffset(), c.lastHostByte() - c.hostOffset() + 1};
        }
        long host = e instanceof L2Entry.Normal n ? n.hostOffset() : e instanceof L2Entry.Zero z ? z.hostOffset() : 0;
        if (host == 0) return null;
        if (!geo.isClusterAligned(host)) {
            throw new CorruptImageException(storage.describe(), "L2 table", -1, host,
                    "Cluster allocation offset 0x" + Long.toHexString(host) + " unaligned");
        }
        return new long[]{host, geo.clusterSize()};
    }

    /** Visits every range the tree references: the L2 tables and the data they map. */
    void visit(long[] l1, RangeVisitor visitor) throws IOException {
        for (int i = 0; i < l1.length; i++) {
            long l2 = l2Offset(l1, i);
            if (l2 == 0) continue;
            long[] table = readL2(l2);
            for (int j = 0; j < geo.l2Entries(); j++) {
                long[] r = referenced(decode(table, j));
                if (r != null) visitor.range(r[0], r[1]);
            }
            visitor.range(l2, geo.clusterSize());
        }
    }
}
