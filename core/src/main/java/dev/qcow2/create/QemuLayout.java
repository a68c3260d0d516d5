package dev.qcow2.create;

import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.NewImageRefcounts;
import dev.qcow2.alloc.QemuRefcountArea;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where QEMU 7.2 puts everything in a new image, found by running the one
 * {@link ClusterAllocator} with QEMU's rules ({@link QemuRefcountArea}) over the new image's
 * in-memory refcounts ({@link NewImageRefcounts}) through the steps of qcow2_co_create:
 * header (cluster 0), refcount table (cluster 1), refcount block (cluster 2), allocation of
 * those three, then qcow2_co_truncate to the virtual size: qcow2_grow_l1_table, and for
 * preallocation either preallocate_co (metadata; and falloc/full with an external data file)
 * or the falloc/full path (qcow2_refcount_area for the whole data area, data clusters right
 * after it, L2 tables from the free cluster index).
 *
 * <p>The result is the final content of every metadata cluster; {@link ImageCreator} decides
 * the order of the writes.
 */
final class QemuLayout {
    private static final long COPIED = 1L << 63;

    /**
     * Everything the writer needs.
     *
     * @param dataRuns    the preallocated data area ({offset, length}) of falloc/full
     * @param fallocated  the data area (and an external data file) is reserved with fallocate, not
     *                    written (preallocation=falloc: file-posix's PREALLOC_MODE_FALLOC)
     */
    record Layout(byte[] header, Map<Long, byte[]> stale, Map<Long, byte[]> metadata, long fileLength,
                  List<long[]> dataRuns, long dataFileLength, boolean fallocated, long cryptoOffset, long cryptoLength) { }

    private final CreateOptions o;
    private final NewImageRefcounts refcounts;
    private final QemuRefcountArea qemuGrowth;
    private final ClusterAllocator a;
    private final long cs;
    private final int cb;
    private final long l2Entries;
    private final int l2Words;
    private long[] l1 = new long[0];
    private long l1Offset;
    private final TreeMap<Long, long[]> l2Tables = new TreeMap<>();   // host offset -> raw words
    private final List<long[]> dataRuns = new ArrayList<>();
    private long dataFileLength;
    private long cryptoOffset;
    private long cryptoLength;

    private QemuLayout(CreateOptions o) {
        this.o = o;
        this.cs = o.clusterSize();
        this.cb = o.clusterBits();
        this.l2Entries = o.l2Entries();
        this.l2Words = o.extendedL2() ? 2 : 1;
        // qcow2_co_create: header (cluster 0), a one-cluster refcount table (cluster 1) whose first
        // entry names the refcount block at cluster 2
        this.refcounts = new NewImageRefcounts("new image", new ClusterGeometry(cb, o.refcountOrder(), o.extendedL2()),
                cs, (int) (cs / 8), 2 * cs);
        this.qemuGrowth = new QemuRefcountArea(refcounts);
        this.a = new ClusterAllocator(refcounts, qemuGrowth);
    }

    static Layout plan(CreateOptions o) throws IOException {
        return new QemuLayout(o).run();
    }

    private Layout run() throws IOException {
        // qcow2_co_create: the three clusters written, then their refcounts
        refcounts.wrote(0, 3 * cs);
        a.allocate(3 * cs);
        dataFileLength = o.dataFile() != null ? o.size() : 0;

        // qcow2_co_truncate
        long l1Size = o.l1Entries();
        if (l1Size > 0) {
            l1Offset = a.allocate(l1Size * 8);
            l1 = new long[(int) l1Size];
            refcounts.wrote(l1Offset, l1Size * 8);
        }
        Preallocation p = o.preallocation();
        if (p == Preallocation.METADATA || (p != Preallocation.OFF && o.dataFile() != null)) {
            preallocateMetadata();
        } else if (p == Preallocation.FALLOC || p == Preallocation.FULL) {
            preallocateData();
        }
        if (o.encryption() != null && o.encryption().luks()) {
            // qcow2_set_up_encryption after the truncate: qcow2_crypto_hdr_init_func allocates the
            // LUKS area (its payload offset) and zero-fills its clusters
            cryptoLength = dev.qcow2.crypto.LuksFormatter.areaLength(o.encryption().spec());
            cryptoOffset = a.allocate(cryptoLength);
            refcounts.wrote(cryptoOffset, RefcountMath.divRoundUp(cryptoLength, cs) * cs);
        }
        return result();
    }

    /** preallocate_co(0, size) through the one {@link Preallocator}. */
    private void preallocateMetadata() throws IOException {
        Preallocator.metadata(new InMemory(), 0, o.size());
    }

    /** The falloc/full branch of qcow2_co_truncate (no external data file) through the one {@link Preallocator}. */
    private void preallocateData() throws IOException {
        Preallocator.data(new InMemory(), 0, o.size(), o.preallocation(), false);
    }

    /**
     * The new image in memory as the preallocator's target: the one {@link ClusterAllocator}
     * over the new image's refcounts for clusters, {@link QemuRefcountArea} for refcount areas, the planned L1/L2 tables for entries. Nothing is allocated yet, so there is
     * nothing to copy on write; QEMU's cow_end of an unaligned last cluster extends the file to
     * that cluster's end, which {@link #extendFile} rounds to.
     */
    private final class InMemory implements Preallocator.Target {
        @Override public int clusterBits() { return cb; }
        @Override public long l2Entries() { return l2Entries; }
        @Override public boolean externalData() { return o.dataFile() != null; }
        @Override public long allocClusters(long bytes) throws IOException { return a.allocate(bytes); }
        @Override public long allocClustersAt(long offset, long nb) throws IOException { return a.allocateAt(offset, nb); }
        @Override public long copiedHost(long guestCluster) { return -1; }
        @Override public void clusterTable(long guest) throws IOException { QemuLayout.this.clusterTable(guest); }
        @Override public Preallocator.Cow cowRegions(long guestCluster, long nb, long from, long to) {
            return new Preallocator.Cow(0, from, to, RefcountMath.divRoundUp(to, cs) * cs);
        }

        @Override
        public void link(long guestCluster, long host, long nb, Preallocator.Cow cow, boolean prealloc) throws IOException {
            long l2Index = (guestCluster >>> cb) & (l2Entries - 1);
            QemuLayout.this.link(QemuLayout.this.clusterTable(guestCluster), l2Index, host, nb);
        }

        @Override public long refcountArea(long startOffset, long additionalClusters) throws IOException {
            return qemuGrowth.area(a, startOffset, additionalClusters, true, 0, 0);
        }

        @Override public long lastUsedCluster(long fileLength) { return refcounts.lastUsedCluster(RefcountMath.divRoundUp(fileLength, cs)); }

        @Override public long fileLength() { return RefcountMath.divRoundUp(refcounts.end(), cs) * cs; }

        @Override
        public void extendFile(long end) {
            long rounded = RefcountMath.divRoundUp(end, cs) * cs;
            if (o.dataFile() != null) dataFileLength = Math.max(dataFileLength, rounded);
            else refcounts.wrote(0, rounded);
        }

        @Override
        public void growData(long dataStart, long newLength, Preallocation mode) {
            refcounts.wrote(0, newLength);
            dataRuns.add(new long[]{dataStart, newLength - dataStart});
        }
    }

    /** get_cluster_table: the L2 table for a guest offset, allocated (l2_allocate) if missing. */
    private long[] clusterTable(long guest) throws IOException {
        int l1Index = (int) (guest >>> (cb + Long.numberOfTrailingZeros(l2Entries)));
        if (l1[l1Index] == 0) {
            long offset = a.allocate(cs);
            l2Tables.put(offset, new long[(int) (l2Entries * l2Words)]);
            refcounts.wrote(offset, cs);
            l1[l1Index] = offset | COPIED;
            refcounts.wrote(l1Offset + 8L * l1Index, 8);             // qcow2_write_l1_entry
        }
        return l2Tables.get(l1[l1Index] & ~COPIED);
    }

    /** qcow2_alloc_cluster_link_l2 with prealloc set: normal entries, COPIED, subcluster bitmap left 0. */
    private void link(long[] table, long l2Index, long host, long nb) {
        for (long i = 0; i < nb; i++) table[(int) ((l2Index + i) * l2Words)] = (host + i * cs) | COPIED;
    }

    private Layout result() {
        TreeMap<Long, byte[]> meta = new TreeMap<>();
        meta.put(refcounts.tableOffset(), refcounts.tableBytes());
        for (int i = 0; i < refcounts.tableEntries(); i++) {
            if (refcounts.blockOffset(i) != 0) meta.put(refcounts.blockOffset(i), refcounts.refcountBlock(i));
        }
        if (l1.length > 0) meta.put(l1Offset, NewImageRefcounts.tableBytes(l1));
        l2Tables.forEach((off, words) -> meta.put(off, NewImageRefcounts.tableBytes(words)));
        byte[] header = HeaderEncoder.encode(o, new HeaderEncoder.Tables(l1.length, l1Offset, refcounts.tableOffset(),
                refcounts.tableEntries() * 8L / cs, cryptoOffset, cryptoLength));
        return new Layout(header, refcounts.stale(), meta, refcounts.end(), dataRuns, dataFileLength,
                o.preallocation() == Preallocation.FALLOC, cryptoOffset, cryptoLength);
    }
}
