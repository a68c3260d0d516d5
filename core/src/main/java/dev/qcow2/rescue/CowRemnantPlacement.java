package dev.qcow2.rescue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * Overlay over an intact base: when the guest writes part of a cluster, QEMU copies the rest of
 * it from the base into the new host cluster (qcow2's copy-on-write, perform_cow), so a rescued
 * overlay cluster that still holds blocks of exactly one base cluster belongs at that cluster's
 * guest offset. Blocks (4 KiB, or the cluster size when smaller) of the base are indexed by a
 * 64-bit hash (ambiguous and all-zero blocks dropped); each unplaced host cluster votes for the
 * base cluster most of its matching blocks come from. Inferred. Not tried for legacy AES (a
 * cluster decrypts only at a known position). Memory: one map entry per indexed base block,
 * at most {@value #MAX_INDEXED} (a larger base is sampled at a coarser block).
 */
final class CowRemnantPlacement extends Evidence {
    static final int MAX_INDEXED = 1 << 22;
    private static final long AMBIGUOUS = -1;

    CowRemnantPlacement(Evidence shared) { super(shared); }

    void placeByBaseRemnants() throws IOException {
        if (positionalCipher()) return;
        long baseSize = src.base().size();
        int block = Math.min(4096, geo.clusterSize());
        while (baseSize / block > MAX_INDEXED && block < geo.clusterSize()) block <<= 1;
        int perCluster = geo.clusterSize() / block;
        int stride = (int) Math.max(1, baseSize / block / MAX_INDEXED);
        Map<Long, Long> index = new HashMap<>();
        long baseClusters = (baseSize + geo.clusterSize() - 1) >>> geo.clusterBits();
        for (long g = 0; g < baseClusters; g++) {
            byte[] c = baseCluster(g);
            for (int k = 0; k < perCluster; k += stride) {
                long h = hash(c, k * block, block);
                if (h == 0) continue;
                index.merge(h, g, (a, b) -> a.equals(b) ? a : AMBIGUOUS);
            }
        }
        int placed = 0;
        for (int h = 1; h < scan.clusters(); h++) {
            if (!candidate(h)) continue;
            byte[] c = plainAt(h, 0).array();
            Map<Long, Integer> votes = new HashMap<>();
            int blocks = 0;
            for (int k = 0; k < perCluster; k += stride) {
                long x = hash(c, k * block, block);
                if (x == 0) continue;
                blocks++;
                Long g = index.get(x);
                if (g != null && g != AMBIGUOUS) votes.merge(g, 1, Integer::sum);
            }
            long best = -1;
            int bestVotes = 0;
            for (var e : votes.entrySet()) if (e.getValue() > bestVotes) { best = e.getKey(); bestVotes = e.getValue(); }
            // at least two blocks, or a quarter of the non-zero ones, from the same base cluster
            if (best < 0 || map.placed(best) || bestVotes < 2 && bestVotes * 4 < blocks) continue;
            map.place(best, scan.hostOffset(h), allBitmap(), Placement.COW_REMNANT);
            role[h] = ROLE_DATA;
            placed++;
        }
        structures.add(new RescueReport.Structure("base remnants", -1, "found", placed
                + " host clusters placed at the guest cluster whose base blocks they still hold (copy-on-write remnants; "
                + index.size() + " base blocks of " + block + " bytes indexed)"));
    }

    /** A 64-bit hash of {@code len} bytes at {@code off}; 0 for an all-zero range. */
    private static long hash(byte[] b, int off, int len) {
        ByteBuffer bb = ByteBuffer.wrap(b, off, len);
        long h = 0x9E3779B97F4A7C15L;
        boolean zero = true;
        for (int i = off; i + 8 <= off + len; i += 8) {
            long v = bb.getLong(i);
            if (v != 0) zero = false;
            h = (h ^ v) * 0xff51afd7ed558ccdL;
            h ^= h >>> 33;
        }
        return zero ? 0 : (h == 0 ? 1 : h);
    }
}
