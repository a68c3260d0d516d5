package dev.qcow2.notebook.charts;

import dev.qcow2.units.GuestOffset;
import dev.qcow2.format.L2Entry;
import dev.qcow2.image.Qcow2Image;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How contiguous the active state's guest data is in the host file. Two views of one walk over
 * the active L2 entries in guest order:
 * <ul>
 *   <li>qemu-img check's figure: every allocated cluster (data, preallocated zero, compressed)
 *       counts as allocated; a data cluster is fragmented when its host offset is not the
 *       previous data cluster's + one cluster, the previous one being in the same L2 table
 *       (QEMU's check_refcounts_l2 restarts with each table); every compressed cluster is
 *       fragmented "by nature". So {@link #percent()} is qemu-img check's "% fragmented".</li>
 *   <li>runs: maximal stretches of consecutive guest data clusters stored back to back on the
 *       host (L2 table boundaries do not break a run; holes and compressed clusters between
 *       two data clusters do not either, only a host jump does).</li>
 * </ul>
 */
public final class Fragmentation {
    private final long allocated;
    private final long fragmented;
    private final long compressed;
    private final List<Long> runs;
    private final int clusterSize;

    private Fragmentation(long allocated, long fragmented, long compressed, List<Long> runs, int clusterSize) {
        this.allocated = allocated;
        this.fragmented = fragmented;
        this.compressed = compressed;
        this.runs = List.copyOf(runs);
        this.clusterSize = clusterSize;
    }

    public static Fragmentation of(Qcow2Image img) throws IOException {
        int cs = img.geometry().clusterSize();
        long perL2 = img.geometry().bytesPerL2Table();
        long allocated = 0, fragmented = 0, compressed = 0;
        long next = 0;                 // QEMU's next_contiguous_offset, 0 at the start of each L2 table
        long run = 0, runEnd = -1;
        List<Long> runs = new ArrayList<>();
        for (long off = 0; off < img.size(); off += cs) {
            if (off % perL2 == 0) next = 0;
            L2Entry e = img.mapper().entry(new GuestOffset(off));
            boolean hasHost = switch (e) {
                case L2Entry.Compressed c -> {   // qemu-img check counts every compressed cluster as fragmented
                    allocated++;
                    compressed++;
                    fragmented++;
                    yield false;
                }
                case L2Entry.Normal n -> true;
                case L2Entry.Zero z -> z.preallocated();
                case L2Entry.Unallocated u -> false;
                case null -> false;               // no L2 table for this guest range
            };
            if (!hasHost) continue;
            long host = e.raw() & L2Entry.OFFSET_MASK;
            allocated++;
            if (next != 0 && host != next) fragmented++;
            next = host + cs;
            if (run > 0 && host == runEnd) {
                run++;
            } else {
                if (run > 0) runs.add(run);
                run = 1;
            }
            runEnd = host + cs;
        }
        if (run > 0) runs.add(run);
        return new Fragmentation(allocated, fragmented, compressed, runs, cs);
    }

    /** Allocated clusters of the active state, as qemu-img check counts them. */
    public long allocated() { return allocated; }

    /** Fragmented clusters, as qemu-img check counts them (compressed ones included). */
    public long fragmented() { return fragmented; }

    public long compressed() { return compressed; }

    /** qemu-img check's "% fragmented": fragmented out of allocated clusters (0 when none is allocated). */
    public double percent() { return allocated == 0 ? 0 : fragmented * 100.0 / allocated; }

    /** The length in clusters of every run of host-contiguous data clusters, in guest order. */
    public List<Long> runs() { return runs; }

    public int clusterSize() { return clusterSize; }

    /**
     * Data clusters by the length of the run they are in, runs grouped by powers of two:
     * "1", "2-3", "4-7", … (in order of length).
     */
    public Map<String, Long> clustersByRunLength() {
        Map<Integer, Long> byBucket = new TreeMap<>();
        for (long r : runs) byBucket.merge(63 - Long.numberOfLeadingZeros(r), r, Long::sum);
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        byBucket.forEach((b, n) -> {
            long lo = 1L << b, hi = (1L << (b + 1)) - 1;
            out.put(lo == hi ? Long.toString(lo) : lo + "-" + hi, n);
        });
        return out;
    }

    /** "3.13% fragmented (2 of 64 allocated clusters), 5 runs" */
    @Override
    public String toString() {
        return String.format("%.2f%% fragmented (%d of %d allocated clusters), %d run%s of data", percent(), fragmented, allocated,
                runs.size(), runs.size() == 1 ? "" : "s");
    }
}
