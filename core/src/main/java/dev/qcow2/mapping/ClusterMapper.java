package dev.qcow2.mapping;

import dev.qcow2.CorruptImageException;
import dev.qcow2.ImageLimitException;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import dev.qcow2.format.SubclusterType;
import dev.qcow2.storage.Storage;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Guest-to-host translation through one L1 table (the active one or a snapshot's), with the
 * runtime checks of QEMU's qcow2_get_host_offset: an entry that QEMU would flag as corruption
 * ("Cluster allocation offset unaligned", "Zero cluster entry found in pre-v3 image", ...) makes
 * the lookup fail with {@link CorruptImageException} instead of returning wrong data.
 */
public final class ClusterMapper {
    private final Storage storage;
    private final ClusterGeometry geo;
    private final long[] l1;
    private final long virtualSize;
    private final L2Cache cache;
    private final boolean externalData;
    private final boolean zeroFlagAllowed;

    public ClusterMapper(Storage storage, ClusterGeometry geo, long[] l1, long virtualSize, L2Cache cache,
                         boolean externalData, int version) {
        this.storage = storage;
        this.geo = geo;
        this.l1 = l1;
        this.virtualSize = virtualSize;
        this.cache = cache;
        this.externalData = externalData;
        this.zeroFlagAllowed = version >= 3;
    }

    /** Reads {@code entries} big-endian 64-bit words at {@code offset}. */
    public static long[] readTable(Storage storage, long offset, int entries) throws IOException {
        // no qcow2 table is larger than an L1 table may be (QCOW_MAX_L1_SIZE, 32 MiB): a count read
        // from a damaged image (e.g. a snapshot's l1_size cast to int) must fail here, not allocate
        if (entries < 0 || entries > Qcow2Header.MAX_L1_BYTES / 8) {
            throw new ImageLimitException(storage.describe(), "table of " + Integer.toUnsignedLong(entries)
                    + " entries at offset 0x" + Long.toHexString(offset) + " exceeds the format's limit");
        }
        ByteBuffer buf = ByteBuffer.allocate(entries * 8).order(ByteOrder.BIG_ENDIAN);
        storage.readFully(offset, buf);
        buf.flip();
        long[] out = new long[entries];
        buf.asLongBuffer().get(out);
        return out;
    }

    public ClusterGeometry geometry() { return geo; }

    public long[] l1Table() { return l1; }

    public long virtualSize() { return virtualSize; }

    /** The L2 table at {@code l2Offset} as raw words (two per entry with extended L2). */
    public long[] l2Table(long l2Offset) throws IOException {
        long[] table = cache.get(l2Offset);
        if (table == null) {
            table = readTable(storage, l2Offset, geo.clusterSize() / 8);
            cache.put(l2Offset, table);
        }
        return table;
    }

    /** The decoded L2 entry for the guest cluster holding {@code guestOffset}, or null if its L1 entry is empty. */
    public L2Entry entry(long guestOffset) throws IOException {
        int l1Index = (int) (guestOffset >>> (geo.clusterBits() + geo.l2Bits()));
        if (l1Index >= l1.length) return null;
        long l2Offset = l1[l1Index] & L1Entry.OFFSET_MASK;
        if (l2Offset == 0) return null;
        checkL2Offset(l2Offset, l1Index);
        long[] table = l2Table(l2Offset);
        int l2Index = (int) ((guestOffset >>> geo.clusterBits()) & (geo.l2Entries() - 1));
        return geo.extendedL2()
                ? L2Entry.decode(table[2 * l2Index], table[2 * l2Index + 1], geo, externalData)
                : L2Entry.decode(table[l2Index], 0, geo, externalData);
    }

    /**
     * The longest run starting at {@code guestOffset} (at most {@code maxLength} bytes, never past
     * the virtual size) that maps uniformly: same kind and, where there is a host offset,
     * contiguous host bytes. Compressed runs never extend past their cluster.
     */
    public Extent extent(long guestOffset, long maxLength) throws IOException {
        long end = Math.min(virtualSize, guestOffset + maxLength);
        if (guestOffset >= end) throw new IllegalArgumentException("offset " + guestOffset + " beyond end " + end);
        Extent first = classify(guestOffset, end);
        if (first instanceof Extent.Compressed) return first;
        long runEnd = guestOffset + first.length();
        while (runEnd < end) {
            Extent next = classify(runEnd, end);
            Extent merged = merge(first, next);
            if (merged == null) break;
            first = merged;
            runEnd = guestOffset + first.length();
        }
        return first;
    }

    private static Extent merge(Extent a, Extent b) {
        if (a instanceof Extent.Data d && b instanceof Extent.Data n && d.hostOffset() + d.length() == n.hostOffset()) {
            return new Extent.Data(d.guestOffset(), d.length() + n.length(), d.hostOffset());
        }
        if (a instanceof Extent.Zero z && b instanceof Extent.Zero n && contiguous(z.hostOffset(), z.length(), n.hostOffset())) {
            return new Extent.Zero(z.guestOffset(), z.length() + n.length(), z.hostOffset());
        }
        if (a instanceof Extent.Unallocated u && b instanceof Extent.Unallocated n && contiguous(u.hostOffset(), u.length(), n.hostOffset())) {
            return new Extent.Unallocated(u.guestOffset(), u.length() + n.length(), u.hostOffset());
        }
        return null;
    }

    private static boolean contiguous(long host, long length, long nextHost) {
        return host < 0 ? nextHost < 0 : nextHost == host + length;
    }

    /** The uniform run starting at {@code pos} inside one cluster (or one whole empty L2 range). */
    private Extent classify(long pos, long end) throws IOException {
        int l2Shift = geo.clusterBits() + geo.l2Bits();
        int l1Index = (int) (pos >>> l2Shift);
        long l2Offset = l1Index < l1.length ? l1[l1Index] & L1Entry.OFFSET_MASK : 0;
        if (l2Offset == 0) {
            long rangeEnd = Math.min(end, ((long) l1Index + 1) << l2Shift);
            return new Extent.Unallocated(pos, rangeEnd - pos, -1);
        }
        checkL2Offset(l2Offset, l1Index);
        long[] table = l2Table(l2Offset);
        int l2Index = (int) ((pos >>> geo.clusterBits()) & (geo.l2Entries() - 1));
        long word = geo.extendedL2() ? table[2 * l2Index] : table[l2Index];
        long bitmap = geo.extendedL2() ? table[2 * l2Index + 1] : 0;
        L2Entry entry = L2Entry.decode(word, bitmap, geo, externalData);

        long clusterStart = pos & ~((long) geo.clusterSize() - 1);
        long inCluster = pos - clusterStart;
        int sub = (int) (inCluster / geo.subclusterSize());
        SubclusterType type = entry.subcluster(sub);
        // Extend over the following subclusters of the same type within this cluster.
        int lastSub = sub;
        while (lastSub + 1 < geo.subclustersPerCluster() && entry.subcluster(lastSub + 1) == type) lastSub++;
        long runEnd = Math.min(end, clusterStart + (long) (lastSub + 1) * geo.subclusterSize());
        long length = runEnd - pos;

        if (type.isZero() && !zeroFlagAllowed && !geo.extendedL2()) {
            throw corruption(l2Offset, l2Index, word, "Zero cluster entry found in pre-v3 image");
        }
        switch (type) {
            case COMPRESSED: {
                if (externalData) {
                    throw corruption(l2Offset, l2Index, word, "Compressed cluster entry found in image with external data file");
                }
                return new Extent.Compressed(pos, length, (L2Entry.Compressed) entry, inCluster);
            }
            case ZERO_PLAIN:
                return new Extent.Zero(pos, length, -1);
            case UNALLOCATED_PLAIN:
                return new Extent.Unallocated(pos, length, -1);
            case INVALID:
                throw corruption(l2Offset, l2Index, word, "Invalid cluster entry found (subcluster bitmap 0x"
                        + Long.toHexString(bitmap) + ")");
            default: {
                long hostCluster = word & L2Entry.OFFSET_MASK;
                if (!geo.isClusterAligned(hostCluster)) {
                    throw corruption(l2Offset, l2Index, word, "Cluster allocation offset 0x" + Long.toHexString(hostCluster) + " unaligned");
                }
                if (externalData && hostCluster != clusterStart) {
                    throw corruption(l2Offset, l2Index, word, "External data file host cluster offset 0x"
                            + Long.toHexString(hostCluster) + " does not match guest cluster offset 0x" + Long.toHexString(clusterStart));
                }
                long host = hostCluster + inCluster;
                return switch (type) {
                    case NORMAL -> new Extent.Data(pos, length, host);
                    case ZERO_ALLOC -> new Extent.Zero(pos, length, host);
                    default -> new Extent.Unallocated(pos, length, host);
                };
            }
        }
    }

    private void checkL2Offset(long l2Offset, int l1Index) throws CorruptImageException {
        if (!geo.isClusterAligned(l2Offset)) {
            throw new CorruptImageException(storage.describe(), "L1 table", -1, l1[l1Index],
                    "L2 table offset 0x" + Long.toHexString(l2Offset) + " unaligned (L1 index: 0x" + Integer.toHexString(l1Index) + ")");
        }
    }

    private CorruptImageException corruption(long l2Offset, int l2Index, long raw, String what) {
        long at = l2Offset + (long) l2Index * geo.l2EntrySize();
        return new CorruptImageException(storage.describe(), "L2 table", at, raw,
                what + " (L2 offset: 0x" + Long.toHexString(l2Offset) + ", L2 index: 0x" + Integer.toHexString(l2Index) + ")");
    }
}
