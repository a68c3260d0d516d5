package dev.qcow2.snapshot;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.RefcountStore;
import dev.qcow2.format.RefcountBlockCodec;
import dev.qcow2.mapping.L1Table;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.walk.Tree;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Adds or drops one reference on everything an L1 table references (QEMU's
 * qcow2_update_snapshot_refcount with addend +1 or -1). Before adding, every count is checked
 * against refcount_bits, so that a snapshot that cannot be represented (refcount_bits=1 and
 * any allocated cluster) is refused before anything changes.
 */
final class TreeRefcounts {
    private final L1Tree tree;
    private final ClusterAllocator allocator;
    private final RefcountStore refcounts;
    private final ClusterGeometry geo;
    private final String res;

    TreeRefcounts(L1Tree tree, ClusterAllocator allocator, String res) {
        this.tree = tree;
        this.allocator = allocator;
        this.refcounts = allocator.refcounts();
        this.geo = refcounts.geometry();
        this.res = res;
    }

    /** Refuses when one more reference on the tree would overflow some refcount. */
    void checkIncrement(Tree which, L1Table l1) throws IOException {
        Map<Long, Long> extra = new HashMap<>();
        tree.visit(which, l1, (offset, length) -> {
            for (long c = offset >>> geo.clusterBits(); c <= (offset + length - 1) >>> geo.clusterBits(); c++) {
                extra.merge(c, 1L, Long::sum);
            }
        });
        long max = RefcountBlockCodec.max(geo.refcountOrder());
        for (Map.Entry<Long, Long> e : extra.entrySet()) {
            long now = refcounts.get(e.getKey());
            if (Long.compareUnsigned(now, max - e.getValue()) > 0) {
                throw new Qcow2Exception(res, "refcount of host cluster 0x" + Long.toHexString(e.getKey() << geo.clusterBits())
                        + " would overflow (refcount_bits=" + geo.refcountBits() + " allows at most "
                        + Long.toUnsignedString(max) + " references)");
            }
        }
    }

    void increment(Tree which, L1Table l1) throws IOException { tree.visit(which, l1, allocator::reference); }

    void decrement(Tree which, L1Table l1) throws IOException { tree.visit(which, l1, allocator::free); }
}
