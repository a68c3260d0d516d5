package dev.qcow2.alloc;

import dev.qcow2.CorruptImageException;
import dev.qcow2.Qcow2Exception;
import dev.qcow2.format.RefcountBlockCodec;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;

/**
 * Host cluster allocation as QEMU's qcow2-refcount.c does it: first fit from a free-cluster
 * cursor ({@code free_cluster_index}), refcount blocks created on demand (a block that falls in
 * its own range describes itself), the refcount table grown when full, and byte-granular
 * allocation for compressed clusters ({@code qcow2_alloc_bytes}, {@code free_byte_offset}).
 *
 * <p>Crash safety: a new refcount block is written and flushed before the table entry that
 * names it; every allocation's refcounts are written before this returns, and the caller calls
 * {@link SyncedStorage#barrier()} before any table references the clusters. Whenever
 * metadata is created for coverage the search restarts (QEMU's -EAGAIN), since the cluster it
 * had picked may now be taken.
 */
public final class ClusterAllocator {
    /** Host offsets must fit in an L2 entry's offset field (bits 9-55). */
    private static final long MAX_HOST_OFFSET = 1L << 56;

    private final SyncedStorage storage;
    private final RefcountStore refcounts;
    private final ClusterGeometry geo;
    private final ReftableGrowth growth;
    private final FreeClusterSearch search = new FreeClusterSearch();
    private long freeByteOffset;
    /** Where clusters whose refcount drops to 0 are noted ({@link DiscardPassthrough}); null when none. */
    private java.util.List<Long> freedLog;

    public ClusterAllocator(SyncedStorage storage, RefcountStore refcounts) {
        this.storage = storage;
        this.refcounts = refcounts;
        this.geo = refcounts.geometry();
        this.growth = new ReftableGrowth(storage, refcounts, this);
    }

    public RefcountStore refcounts() { return refcounts; }

    /** Allocates {@code bytes} (rounded up to clusters) of contiguous free clusters; returns the host offset. */
    public long allocate(long bytes) throws IOException {
        long n = geo.clustersCovering(bytes);
        while (true) {
            long saved = search.cursor();
            long start = findFree(n);
            if (!ensureCovered(start, n)) {
                search.cursor(saved);
                continue;
            }
            for (long c = start; c < start + n; c++) add(c, 1, false);
            refcounts.writeRange(start, n);
            storage.extendTo((start + n) << geo.clusterBits());
            return start << geo.clusterBits();
        }
    }

    /**
     * QEMU's qcow2_alloc_clusters_at: as many of the {@code n} clusters from cluster-aligned
     * {@code offset} on as are free, up to the first one in use, gain a reference; returns how
     * many (0 when the first is in use). The free-cluster cursor does not move.
     */
    public long allocateAt(long offset, long n) throws IOException {
        long first = offset >>> geo.clusterBits();
        while (true) {
            long free = 0;
            while (free < n && refcounts.get(first + free) == 0) free++;
            if (free == 0) return 0;
            if (!ensureCovered(first, free)) continue;       // a new refcount block may have taken one
            for (long c = first; c < first + free; c++) add(c, 1, false);
            refcounts.writeRange(first, free);
            storage.extendTo((first + free) << geo.clusterBits());
            return free;
        }
    }

    /**
     * Allocates {@code size} bytes (less than a cluster) for a compressed cluster, packing them
     * after the previous compressed allocation when they fit, like QEMU's qcow2_alloc_bytes.
     * Every host cluster the range touches gains one reference.
     */
    public long allocateBytes(int size) throws IOException {
        int cs = geo.clusterSize();
        if (size <= 0 || size > cs) throw new IllegalArgumentException("compressed allocation of " + size + " bytes");
        while (true) {
            long offset = freeByteOffset;
            if (offset != 0 && refcounts.get(offset >>> geo.clusterBits()) == RefcountBlockCodec.max(geo.refcountOrder())) {
                offset = 0;
            }
            long freeInCluster = cs - geo.offsetInCluster(offset);
            if (offset == 0 || freeInCluster < size) {
                long saved = search.cursor();
                long fresh = findFree(1);
                if (!ensureCovered(fresh, 1)) {
                    search.cursor(saved);
                    continue;
                }
                long freshOffset = fresh << geo.clusterBits();
                if (offset == 0 || geo.roundUpToCluster(offset) != freshOffset) {
                    offset = freshOffset;
                }
            }
            long first = offset >>> geo.clusterBits();
            long last = (offset + size - 1) >>> geo.clusterBits();
            if (!ensureCovered(first, last - first + 1)) continue;
            for (long c = first; c <= last; c++) add(c, 1);
            storage.extendTo((last + 1) << geo.clusterBits());
            freeByteOffset = geo.isClusterAligned(offset + size) ? 0 : offset + size;
            return offset;
        }
    }

    /** Drops one reference from every cluster that {@code [offset, offset+length)} touches (QEMU's qcow2_free_clusters). */
    public void free(long offset, long length) throws IOException {
        if (length <= 0) return;
        long first = offset >>> geo.clusterBits();
        long last = (offset + length - 1) >>> geo.clusterBits();
        for (long c = first; c <= last; c++) add(c, -1);
    }

    /** Adds one reference to every cluster of a range (for snapshots or shared tables). */
    public void reference(long offset, long length) throws IOException {
        long first = offset >>> geo.clusterBits();
        long last = (offset + length - 1) >>> geo.clusterBits();
        while (!ensureCovered(first, last - first + 1)) { /* coverage created: check again */ }
        for (long c = first; c <= last; c++) add(c, 1);
    }

    /** Changes one cluster's refcount by {@code delta}; refuses overflow and underflow clearly. */
    void add(long cluster, int delta) throws IOException { add(cluster, delta, true); }

    /** {@link #add(long, int)}; with {@code write} false the caller writes the count ({@link RefcountStore#writeRange}). */
    private void add(long cluster, int delta, boolean write) throws IOException {
        long old = refcounts.get(cluster);
        long max = RefcountBlockCodec.max(geo.refcountOrder());
        if (delta > 0 && old == max) {
            throw new Qcow2Exception(storage.describe(), "refcount of host cluster 0x" + Long.toHexString(cluster << geo.clusterBits())
                    + " would overflow (refcount_bits=" + geo.refcountBits() + " allows at most "
                    + Long.toUnsignedString(max) + " references)");
        }
        if (delta < 0 && old == 0) {
            throw new CorruptImageException(storage.describe(), "refcount block", -1, cluster << geo.clusterBits(),
                    "refcount of host cluster 0x" + Long.toHexString(cluster << geo.clusterBits()) + " would drop below zero");
        }
        long now = old + delta;
        if (write) refcounts.set(cluster, now);
        else refcounts.setCached(cluster, now);
        if (now == 0) {
            search.freed(cluster);
            if (freedLog != null) freedLog.add(cluster);
            // A freed cluster may be reused for anything: compressed packing must not continue in it.
            if (freeByteOffset != 0 && (freeByteOffset >>> geo.clusterBits()) == cluster) freeByteOffset = 0;
        }
    }

    /** Notes clusters whose refcount drops to 0 in {@code log} from now on (null: stop). */
    void recordFreed(java.util.List<Long> log) { this.freedLog = log; }

    /** First fit of {@code n} clusters with refcount 0, from the cursor; moves the cursor past them. */
    long findFree(long n) throws IOException {
        long start = search.find(n, refcounts::get);
        if (((start + n) << geo.clusterBits()) > MAX_HOST_OFFSET || start + n < 0) {
            throw new Qcow2Exception(storage.describe(), "cannot allocate clusters: host offset beyond 2^56");
        }
        return start;
    }

    /**
     * Makes sure clusters {@code [start, start+n)} have refcount blocks. Returns true when they
     * already had; false when metadata was created (the caller searches again).
     */
    boolean ensureCovered(long start, long n) throws IOException {
        int firstTable = refcounts.tableIndex(start);
        int lastTable = refcounts.tableIndex(start + n - 1);
        for (int t = firstTable; t <= lastTable; t++) {
            if (refcounts.blockOffset(t) != 0) continue;
            createBlock(t);
            return false;
        }
        return true;
    }

    /** QEMU's alloc_refcount_block: a new, zeroed refcount block for table index {@code t}. */
    private void createBlock(int t) throws IOException {
        if (t >= refcounts.tableEntries()) {
            growth.grow(t);
            return;
        }
        long saved = search.cursor();
        long b = findFree(1);
        int bt = refcounts.tableIndex(b);
        byte[] content = new byte[geo.clusterSize()];
        if (bt == t) {
            // The block lies in the range it describes: it counts itself.
            RefcountBlockCodec.set(content, geo.refcountOrder(), b % refcounts.entriesPerBlock(), 1);
        } else {
            if (refcounts.blockOffset(bt) == 0) {
                search.cursor(saved);
                createBlock(bt);
                return;
            }
            add(b, 1);
        }
        refcounts.writeBlock(b << geo.clusterBits(), content);
        storage.barrier();
        refcounts.link(t, b << geo.clusterBits());
        storage.barrier();
        search.cursor(saved);
    }
}
