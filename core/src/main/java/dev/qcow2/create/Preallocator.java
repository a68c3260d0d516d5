package dev.qcow2.create;

import java.io.IOException;

/**
 * QEMU 7.2's preallocation of a guest range (block/qcow2.c), the one model of it: for a new
 * image ({@link QemuLayout}, replayed in memory) and for the area a resize adds (on disk).
 *
 * <ul>
 *   <li>{@link #metadata}: preallocate_co — qcow2_alloc_host_offset request by request (each up
 *       to INT_MAX bytes): a cluster already written in place is kept (handle_copied), others get
 *       host clusters in contiguous runs (handle_alloc: the L2 table first, then the data run,
 *       first fit or continuing the previous run with qcow2_alloc_clusters_at), linked with
 *       {@code prealloc} set; data is not written, the file is extended to the last allocated byte.</li>
 *   <li>{@link #data}: the falloc/full branch of qcow2_co_truncate — a refcount area
 *       (qcow2_refcount_area, exact) past the last used cluster, the data clusters right after
 *       it, the file grown over them, then the L2 entries linked slice by slice.</li>
 * </ul>
 * The guest range starts at {@code from}; an unaligned start copies the head of its cluster
 * (perform_cow's cow_start), an unaligned end of a metadata run the tail (cow_end).
 */
public final class Preallocator {
    /** BDRV_REQUEST_MAX_BYTES: MIN(SIZE_MAX, INT_MAX) rounded down to a 512-byte sector. */
    private static final long REQUEST_MAX_BYTES = (Integer.MAX_VALUE >> 9) << 9;
    private static final long INV = -1;

    private Preallocator() { }

    /**
     * The copy-on-write regions of one link (QCowL2Meta's cow_start and cow_end), relative to
     * the first cluster linked: bytes [{@code startFrom}, {@code startTo}) and [{@code endFrom}, {@code endTo}).
     */
    public record Cow(long startFrom, long startTo, long endFrom, long endTo) {
        /** cow_start [0, head) and no cow_end, as the falloc/full branch sets them for {@code nb} clusters. */
        static Cow head(long head, long nb, long clusterSize) { return new Cow(0, head, nb * clusterSize, nb * clusterSize); }
    }

    /** What preallocation needs from an image: QEMU's allocator and L2 updates. */
    public interface Target {
        int clusterBits();

        long l2Entries();

        /** An external data file: host offset = guest offset, nothing allocated in the image file. */
        boolean externalData();

        /** qcow2_alloc_clusters: a contiguous free run (first fit), counted; its host offset. */
        long allocClusters(long bytes) throws IOException;

        /** qcow2_alloc_clusters_at: how many of {@code nb} clusters from {@code offset} were free (now counted). */
        long allocClustersAt(long offset, long nb) throws IOException;

        /** handle_copied: the host cluster of guest cluster {@code guestCluster} when it is written in place, else -1. */
        long copiedHost(long guestCluster) throws IOException;

        /** get_cluster_table: the L2 table of {@code guest} made writable (allocated when missing). */
        void clusterTable(long guest) throws IOException;

        /**
         * calculate_l2_meta: the copy-on-write regions when guest bytes [{@code from}, {@code to})
         * (relative to cluster-aligned {@code guestCluster}) of {@code nb} clusters get new host
         * clusters; they depend on what the first and last cluster hold now.
         */
        Cow cowRegions(long guestCluster, long nb, long from, long to) throws IOException;

        /**
         * qcow2_alloc_cluster_link_l2 for {@code nb} clusters from cluster-aligned {@code guestCluster}
         * (one L2 table) at {@code host}: copy-on-write of {@code cow}, entries pointing at the new
         * clusters ({@code prealloc}: subcluster bitmaps left as they were), replaced clusters freed.
         */
        void link(long guestCluster, long host, long nb, Cow cow, boolean prealloc) throws IOException;

        /** qcow2_refcount_area(start, additional, exact) ({@link RefcountArea}); the end of the area. */
        long refcountArea(long startOffset, long additionalClusters) throws IOException;

        /** qcow2_get_last_cluster: the last cluster below {@code fileLength} with a refcount, or -1. */
        long lastUsedCluster(long fileLength) throws IOException;

        long fileLength() throws IOException;

        /** preallocate_co's truncate: the file (data file) grown to at least {@code end}. */
        void extendFile(long end) throws IOException;

        /** bdrv_co_truncate of the file to {@code newLength} with {@code mode} (falloc or full): the data area from {@code dataStart}. */
        void growData(long dataStart, long newLength, Preallocation mode) throws IOException;
    }

    /** preallocate_co(from, to): metadata for the guest range [from, to). */
    public static void metadata(Target t, long from, long to) throws IOException {
        long cs = 1L << t.clusterBits();
        long offset = from;
        long bytes = to - from;
        long host = INV;
        long cur = 0;
        while (bytes > 0) {
            cur = Math.min(bytes, (Integer.MAX_VALUE / cs) * cs);
            long[] hostAndBytes = allocHostOffset(t, offset, cur);
            host = hostAndBytes[0];
            cur = hostAndBytes[1];
            bytes -= cur;
            offset += cur;
        }
        // "the image file is large enough to actually contain all of the allocated clusters"
        if (host != INV) t.extendFile(host + cur);
    }

    /** qcow2_alloc_host_offset with the request's l2meta linked at once (prealloc): {host offset of offset, bytes mapped}. */
    private static long[] allocHostOffset(Target t, long offset, long bytes) throws IOException {
        int cb = t.clusterBits();
        long cs = 1L << cb;
        long start = offset;
        long remaining = bytes;
        long clusterOffset = INV;
        long hostOffset = INV;
        long cur = 0;
        while (true) {
            if (hostOffset == INV && clusterOffset != INV) hostOffset = clusterOffset;
            start += cur;
            remaining -= cur;
            if (clusterOffset != INV) clusterOffset += cur;
            if (remaining == 0) break;
            cur = remaining;
            long inCluster = start & (cs - 1);
            long copied = t.copiedHost(start - inCluster);
            if (copied >= 0) {
                // handle_copied: kept in place, as long as it continues the run
                if (clusterOffset != INV && copied != clusterOffset - inCluster) break;
                cur = Math.min(remaining, cs - inCluster);
                clusterOffset = copied + inCluster;
                continue;
            }
            t.clusterTable(start);                             // handle_alloc: the L2 table first
            long l2Index = (start >>> cb) & (t.l2Entries() - 1);
            long nb = Math.min(RefcountMath.divRoundUp(inCluster + cur, cs), t.l2Entries() - l2Index);
            nb = Math.min(nb, REQUEST_MAX_BYTES >>> cb);
            long alloc;
            if (t.externalData()) {
                alloc = start - inCluster;                    // external data: host offset = guest offset
            } else if (clusterOffset == INV) {
                alloc = t.allocClusters(nb * cs);
            } else {
                alloc = clusterOffset - (clusterOffset & (cs - 1));
                nb = t.allocClustersAt(alloc, nb);
                if (nb == 0) break;                           // cannot extend the contiguous run
            }
            long mapped = Math.min(cur, nb * cs - inCluster);
            t.link(start - inCluster, alloc, nb, t.cowRegions(start - inCluster, nb, inCluster, inCluster + mapped), true);
            cur = mapped;
            clusterOffset = alloc + inCluster;
        }
        return new long[]{hostOffset, bytes - remaining};
    }

    /**
     * The falloc/full branch of qcow2_co_truncate for the guest range [from, to) (no external
     * data file). {@code needAllocation}: the new area must read as zeros rather than from a
     * backing file, so extended-L2 subclusters are marked allocated (subclusters_need_allocation).
     */
    public static void data(Target t, long from, long to, Preallocation mode, boolean needAllocation) throws IOException {
        int cb = t.clusterBits();
        long cs = 1L << cb;
        long oldFileSize = t.fileLength();
        long last = t.lastUsedCluster(oldFileSize);
        oldFileSize = last >= 0 ? (last + 1) * cs : RefcountMath.divRoundUp(oldFileSize, cs) * cs;
        long nbData = (RefcountMath.divRoundUp(to, cs) * cs - (from & ~(cs - 1))) >>> cb;
        // an overestimate, so that linking never needs new refcount structures: one table per
        // L2 range plus one for an unaligned head or tail
        long nbL2 = RefcountMath.divRoundUp(nbData, t.l2Entries()) + 1;
        long allocationStart = t.refcountArea(oldFileSize, nbData + nbL2);
        long got = t.allocClustersAt(allocationStart, nbData);
        if (got != nbData) throw new IllegalStateException("preallocation area not free");
        long newFileSize = allocationStart + nbData * cs;
        if (nbData > 0) t.growData(allocationStart, newFileSize, mode);
        long host = allocationStart;
        long guest = from;
        while (nbData > 0) {
            long l2Index = (guest >>> cb) & (t.l2Entries() - 1);
            long n = Math.min(nbData, t.l2Entries() - l2Index);
            long cowStart = guest & (cs - 1);
            guest -= cowStart;
            t.link(guest, host, n, Cow.head(cowStart, n, cs), !needAllocation);
            guest += n * cs;
            host += n * cs;
            nbData -= n;
        }
    }
}
