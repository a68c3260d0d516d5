package dev.qcow2.rescue;

import dev.qcow2.format.L2Entry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Data clusters no table or signature placed, by QEMU's allocation order (inferred):
 * {@code qemu-img convert} writes host clusters in guest order, skipping zero clusters, so the
 * unplaced host clusters in host order are matched to the guest clusters the file system says
 * hold data, segment by segment between anchors.
 */
final class AllocationOrderPlacement extends Evidence {
    AllocationOrderPlacement(Evidence shared) { super(shared); }

    /**
     * Allocation order: matches unplaced host clusters (host order) with the guest clusters the
     * file system says hold data and no evidence placed yet (guest order), segment by segment
     * between placed clusters; repeats while reading the newly placed clusters reveals more of
     * the file system. Where a segment's counts disagree but its host gap equals its guest gap,
     * places linearly.
     */
    void placeByAllocationOrder(List<Long> fsStarts) throws IOException {
        int before = -1;
        for (int round = 0; round < 32; round++) {
            BitSet expected = new BitSet();
            wholeData.clear();
            long limit = Math.min(Integer.MAX_VALUE - 8L, Math.max(map.capacity(), 1L << 28 >>> 0));
            for (long start : fsStarts) GuestFs.expectedNonZero(view, start, geo.clusterBits(), limit, expected, packed.size() > 0 ? wholeData : null);
            if (src.base() != null) dropBaseHeld(expected);
            if (expected.cardinality() == before) break;
            before = expected.cardinality();
            // undo the previous round's order placements
            for (long g = 0; g < map.extent(); g++) {
                Placement p = map.method(g);
                if (p == Placement.ALLOCATION_ORDER || p == Placement.EQUAL_GAP) {
                    releaseUnit(map.raw(g));
                    map.clear(g);
                }
            }
            matchSegments(expected);
        }
    }

    private final BitSet baseChecked = new BitSet(), baseNonZero = new BitSet();
    /** Expected guest clusters made only of whole file-data blocks (computed when there are compressed streams). */
    private final BitSet wholeData = new BitSet();

    /**
     * Over a base, the overlay holds what the guest wrote after the base was taken: a guest
     * cluster the file system uses and the base already holds non-zero is most likely the base's
     * (rewritten clusters keep base remnants and are placed by {@link CowRemnantPlacement}), so
     * only clusters that are zeros in the base are matched by allocation order.
     */
    private void dropBaseHeld(BitSet expected) throws IOException {
        for (int g = expected.nextSetBit(0); g >= 0; g = expected.nextSetBit(g + 1)) {
            if (!baseChecked.get(g)) {
                baseChecked.set(g);
                if (!HostScan.allZero(java.nio.ByteBuffer.wrap(baseCluster(g)))) baseNonZero.set(g);
            }
            if (baseNonZero.get(g)) expected.clear(g);
        }
    }

    /**
     * Units (host clusters and compressed streams, {@link Evidence#units}) in host byte order are
     * matched to the expected guest clusters in guest order, between anchors: placed units whose
     * host position is known. A compressed stream is one unit like a whole cluster: {@code qemu-img
     * convert -c} writes each cluster compressed, or whole when it does not shrink, in guest order.
     */
    private void matchSegments(BitSet expected) {
        // Anchors: placed units with a known host position, in host order: {host byte, guest cluster}.
        List<long[]> anchors = new ArrayList<>();
        for (long g = 0; g < map.extent(); g++) {
            Placement p = map.method(g);
            if (p == null) continue;
            long raw = map.raw(g);
            if (p == Placement.FS_SIGNATURE || p == Placement.COW_REMNANT) {
                anchors.add(new long[] {descriptorHostByte(raw), g});
            } else if (p == Placement.ACTIVE_TABLES || p == Placement.SNAPSHOT_TABLES || p == Placement.ORPHAN_L2) {
                switch (L2Entry.decode(raw, map.bitmap(g), geo, false)) {
                    case L2Entry.Normal n -> anchors.add(new long[] {n.hostOffset(), g});
                    case L2Entry.Compressed c -> anchors.add(new long[] {c.firstHostByte(), g});
                    case L2Entry.Zero z -> { }
                    case L2Entry.Unallocated u -> { }
                }
            }
        }
        anchors.sort((a, b) -> Long.compare(a[0], b[0]));
        anchors.add(new long[] {Long.MAX_VALUE, Long.MAX_VALUE});
        // the candidate units in host order
        List<Integer> units = new ArrayList<>();
        for (int u = 0; u < units(); u++) if (candidate(u)) units.add(u);
        units.sort((a, b) -> Long.compare(unitHostByte(a), unitHostByte(b)));
        int next = 0;
        long prevHost = -1, prevGuest = -1;
        for (long[] a : anchors) {
            long hEnd = a[0], gEnd = a[1];
            List<Integer> hs = new ArrayList<>();
            while (next < units.size() && unitHostByte(units.get(next)) < hEnd) {
                if (unitHostByte(units.get(next)) > prevHost) hs.add(units.get(next));
                next++;
            }
            if (prevGuest >= 0 && gEnd > prevGuest) {
                List<Long> gs = new ArrayList<>();
                for (int g = expected.nextSetBit((int) Math.min(Integer.MAX_VALUE - 1, prevGuest + 1)); g >= 0 && g < gEnd; g = expected.nextSetBit(g + 1)) {
                    if (!map.placed(g)) gs.add((long) g);
                    if (g == Integer.MAX_VALUE - 1) break;
                }
                if (!hs.isEmpty()) {
                    // equal gaps count whole host clusters: only between two cluster anchors over whole clusters
                    boolean wholeClusters = (prevHost & (geo.clusterSize() - 1)) == 0 && gEnd != Long.MAX_VALUE
                            && (hEnd & (geo.clusterSize() - 1)) == 0 && hs.stream().noneMatch(this::isStream);
                    boolean equalGap = wholeClusters && (hEnd - prevHost >>> geo.clusterBits()) == gEnd - prevGuest;
                    if (!gs.isEmpty() && hs.size() == gs.size() && byKind(hs, gs)) {
                        // placed by kind (see byKind)
                    } else if (!gs.isEmpty() && (hs.size() == gs.size() || !equalGap)) {
                        int n = Math.min(hs.size(), gs.size());
                        for (int k = 0; k < n; k++) placeUnit(gs.get(k), hs.get(k), Placement.ALLOCATION_ORDER);
                    } else if (equalGap) {
                        for (int h : hs) {
                            long g = prevGuest + (unitHostByte(h) - prevHost >>> geo.clusterBits());
                            if (!map.placed(g)) placeUnit(g, h, Placement.EQUAL_GAP);
                        }
                    }
                }
            }
            prevHost = a[0];
            prevGuest = a[1];
        }
    }

    /**
     * A segment holding compressed streams: {@code qemu-img convert -c} stores whole the clusters
     * that do not shrink (random file data) and packs the others, and a packed one may land in
     * the free tail of an earlier cluster (qcow2_alloc_bytes), before whole clusters written
     * ahead of it. So when host order pairs a stream with a cluster of whole file-data blocks (or
     * a whole cluster with one holding metadata, padding or free space), and the counts of each
     * kind agree, streams go to the other clusters in guest order and whole clusters to the
     * whole-data ones. False (nothing placed) otherwise.
     */
    private boolean byKind(List<Integer> hs, List<Long> gs) {
        if (hs.stream().noneMatch(this::isStream)) return false;
        boolean conflict = false;
        List<Integer> streams = new ArrayList<>(), whole = new ArrayList<>();
        List<Long> packedGuests = new ArrayList<>(), wholeGuests = new ArrayList<>();
        for (int k = 0; k < hs.size(); k++) {
            boolean stream = isStream(hs.get(k));
            boolean wholeGuest = gs.get(k) < Integer.MAX_VALUE && wholeData.get((int) (long) gs.get(k));
            if (stream == wholeGuest) conflict = true;
            (stream ? streams : whole).add(hs.get(k));
            (wholeGuest ? wholeGuests : packedGuests).add(gs.get(k));
        }
        if (!conflict || streams.size() != packedGuests.size()) return false;
        for (int k = 0; k < streams.size(); k++) placeUnit(packedGuests.get(k), streams.get(k), Placement.ALLOCATION_ORDER);
        for (int k = 0; k < whole.size(); k++) placeUnit(wholeGuests.get(k), whole.get(k), Placement.ALLOCATION_ORDER);
        return true;
    }
}
