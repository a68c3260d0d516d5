package dev.qcow2.rescue;

import dev.qcow2.storage.Storage;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Infers cluster_bits when the header is gone: for every size from 512 B to 2 MiB, counts the
 * set entries of the clusters that parse as L1/L2 tables at that size (entries cluster-aligned,
 * inside the file). A table of the true size still parses when cut into smaller clusters (its
 * entries stay aligned) but not at larger sizes (half its entries are misaligned, or the cluster
 * runs into data), so the answer is the largest size scoring at least 90 % of the best score.
 * One sequential read of the file in 2 MiB chunks.
 */
final class ClusterSizeInference {
    record Result(int clusterBits, long score, long[] scores) { }

    static Result infer(Storage in, boolean extendedL2) throws IOException { return infer(in, extendedL2, -1); }

    /** {@code externalDataSize}: the size of the external data file normal entries point into, or -1. */
    static Result infer(Storage in, boolean extendedL2, long externalDataSize) throws IOException {
        int min = ClusterGeometry.MIN_CLUSTER_BITS, max = ClusterGeometry.MAX_CLUSTER_BITS;
        long[] scores = new long[max + 1];
        long size = in.size();
        int chunk = 1 << max;
        ByteBuffer buf = ByteBuffer.allocate(chunk);
        for (long at = 0; at < size; at += chunk) {
            HostScan.readCluster(in, at, size, buf);
            for (int bits = min; bits <= max; bits++) {
                if (extendedL2 && bits < 14) continue;
                ClusterGeometry geo = new ClusterGeometry(bits, 4, extendedL2);
                for (int off = 0; off < chunk && at + off < size; off += 1 << bits) {
                    if (at + off == 0) continue; // the header cluster
                    ByteBuffer c = buf.slice(off, 1 << bits);
                    if (HostScan.tableShaped(c, geo, size, externalDataSize)) scores[bits] += setEntries(c, geo);
                }
            }
        }
        long best = 0;
        for (long s : scores) best = Math.max(best, s);
        if (best == 0) return new Result(-1, 0, scores);
        for (int bits = max; bits >= min; bits--) {
            if (scores[bits] * 10 >= best * 9) return new Result(bits, scores[bits], scores);
        }
        throw new AssertionError("a best score exists");
    }

    private static long setEntries(ByteBuffer c, ClusterGeometry geo) {
        long n = 0;
        for (int i = 0; i + geo.l2EntrySize() <= c.capacity(); i += geo.l2EntrySize()) if (c.getLong(i) != 0) n++;
        return n;
    }
}
