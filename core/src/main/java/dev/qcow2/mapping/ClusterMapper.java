package dev.qcow2.mapping;

import dev.qcow2.CorruptImageException;
import dev.qcow2.ImageLimitException;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import dev.qcow2.format.SubclusterType;
import dev.qcow2.storage.Storage;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.units.GuestOffset;
import dev.qcow2.units.HostOffset;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Guest-to-host translation through one L1 table (the active one or a snapshot's, of a
 * read-only image or of the writer), with the runtime checks of QEMU's qcow2_get_host_offset:
 * an entry that QEMU would flag as corruption ("Cluster allocation offset unaligned", "Zero
 * cluster entry found in pre-v3 image", ...) makes the lookup fail with
 * {@link CorruptImageException} at the file offset of the damaged entry, instead of returning
 * wrong data. L2 tables come from the {@link L2Cache}; for a writer that cache holds its
 * changes, so lookups see entries not yet on disk.
 */
public final class ClusterMapper {
    private final String resource;
    private final ClusterGeometry geo;
    private final L1Table l1;
    private final long virtualSize;
    private final L2Cache cache;
    private final boolean externalData;
    private final boolean zeroFlagAllowed;

    /**
     * @param virtualSize lookups stop here; the writer passes {@link Long#MAX_VALUE} (its
     *                    copy-on-write reads the last cluster whole, past the disk's end, and it
     *                    checks request ranges itself)
     */
    public ClusterMapper(String resource, ClusterGeometry geo, L1Table l1, long virtualSize, L2Cache cache,
                         boolean externalData, int version) {
        this.resource = resource;
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

    /** The L1 entries in force (do not change them). */
    public long[] l1Table() { return l1.entries(); }

    /** Where the L1 table lies in the file. */
    public HostOffset l1TableOffset() { return l1.offset(); }

    public long virtualSize() { return virtualSize; }

    /** The L2 table at {@code l2Offset} as raw words (two per entry with extended L2); do not change it. */
    public long[] l2Table(HostOffset l2Offset) throws IOException { return cache.table(l2Offset); }

    /**
     * The L2 table offset L1 entry {@code l1Index} names, or null when the entry is empty or
     * past the table. An unaligned offset is corruption, reported at the L1 entry's file offset.
     */
    public HostOffset l2TableOffset(int l1Index) throws CorruptImageException {
        long l2 = l2Offset(l1Index, l1.entries());
        return l2 == 0 ? null : new HostOffset(l2);
    }

    /** The decoded L2 entry for the guest cluster holding {@code guestOffset}, or null if its L1 entry is empty. */
    public L2Entry entry(GuestOffset guestOffset) throws IOException {
        long pos = guestOffset.value();
        int l1Index = (int) (pos >>> (geo.clusterBits() + geo.l2Bits()));
        long l2Offset = l2Offset(l1Index, l1.entries());
        if (l2Offset == 0) return null;
        int l2Index = (int) ((pos >>> geo.clusterBits()) & (geo.l2Entries() - 1));
        return entry(cache.table(l2Offset), l2Index);
    }

    /** Entry {@code l2Index} of an L2 table. */
    public L2Entry entry(long[] table, int l2Index) {
        return geo.extendedL2()
                ? L2Entry.decode(table[2 * l2Index], table[2 * l2Index + 1], geo, externalData)
                : L2Entry.decode(table[l2Index], 0, geo, externalData);
    }

    // kinds of a run while it is being measured (no Extent is made until the run is known)
    private static final int DATA = 0, ZERO = 1, UNALLOCATED = 2, COMPRESSED = 3;

    /** A run being measured: one per {@link #extent} call, reused for each cluster it looks at. */
    private static final class Run {
        int kind;
        long length;
        /** Host offset of the run's first byte; -1 when there is none (never for DATA). */
        long host;
        L2Entry.Compressed compressed;
        long inCluster;
    }

    /**
     * The longest run starting at {@code guestOffset} (at most {@code maxLength} bytes, never past
     * the virtual size) that maps uniformly: same kind and, where there is a host offset,
     * contiguous host bytes. Compressed runs never extend past their cluster.
     */
    public Extent extent(GuestOffset guestOffset, long maxLength) throws IOException {
        long start = guestOffset.value();
        long end = Math.min(virtualSize, start + maxLength);
        if (start >= end) throw new IllegalArgumentException("offset " + start + " beyond end " + end);
        long[] l1Entries = l1.entries();
        Run run = new Run();
        classify(start, end, l1Entries, run);
        if (run.kind != COMPRESSED) {
            Run next = null;
            long runEnd = start + run.length;
            while (runEnd < end) {
                if (next == null) next = new Run();
                classify(runEnd, end, l1Entries, next);
                boolean joins = next.kind == run.kind && switch (run.kind) {
                    case DATA -> next.host == run.host + run.length;
                    case ZERO, UNALLOCATED -> run.host < 0 ? next.host < 0 : next.host == run.host + run.length;
                    default -> false;
                };
                if (!joins) break;
                run.length += next.length;
                runEnd += next.length;
            }
        }
        HostOffset host = run.host < 0 ? null : new HostOffset(run.host);
        return switch (run.kind) {
            case DATA -> new Extent.Data(guestOffset, run.length, host);
            case ZERO -> new Extent.Zero(guestOffset, run.length, host);
            case UNALLOCATED -> new Extent.Unallocated(guestOffset, run.length, host);
            default -> new Extent.Compressed(guestOffset, run.length, run.compressed, run.inCluster);
        };
    }

    /** Measures the uniform run starting at {@code pos} inside one cluster (or one whole empty L2 range) into {@code out}. */
    private void classify(long pos, long end, long[] l1Entries, Run out) throws IOException {
        int l2Shift = geo.clusterBits() + geo.l2Bits();
        int l1Index = (int) (pos >>> l2Shift);
        long l2Offset = l2Offset(l1Index, l1Entries);
        if (l2Offset == 0) {
            long rangeEnd = Math.min(end, ((long) l1Index + 1) << l2Shift);
            set(out, UNALLOCATED, rangeEnd - pos, -1);
            return;
        }
        long[] table = cache.table(l2Offset);
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
            case COMPRESSED -> {
                if (externalData) {
                    throw corruption(l2Offset, l2Index, word, "Compressed cluster entry found in image with external data file");
                }
                set(out, COMPRESSED, length, -1);
                out.compressed = (L2Entry.Compressed) entry;
                out.inCluster = inCluster;
            }
            case ZERO_PLAIN -> set(out, ZERO, length, -1);
            case UNALLOCATED_PLAIN -> set(out, UNALLOCATED, length, -1);
            case INVALID -> throw corruption(l2Offset, l2Index, word, "Invalid cluster entry found (subcluster bitmap 0x"
                    + Long.toHexString(bitmap) + ")");
            case NORMAL, ZERO_ALLOC, UNALLOCATED_ALLOC -> {
                long hostCluster = word & L2Entry.OFFSET_MASK;
                if (!geo.isClusterAligned(hostCluster)) {
                    throw corruption(l2Offset, l2Index, word, "Cluster allocation offset 0x" + Long.toHexString(hostCluster) + " unaligned");
                }
                if (externalData && hostCluster != clusterStart) {
                    throw corruption(l2Offset, l2Index, word, "External data file host cluster offset 0x"
                            + Long.toHexString(hostCluster) + " does not match guest cluster offset 0x" + Long.toHexString(clusterStart));
                }
                int kind = switch (type) {
                    case NORMAL -> DATA;
                    case ZERO_ALLOC -> ZERO;
                    default -> UNALLOCATED;
                };
                set(out, kind, length, hostCluster + inCluster);
            }
        }
    }

    private static void set(Run out, int kind, long length, long host) {
        out.kind = kind;
        out.length = length;
        out.host = host;
    }

    /** The L2 table offset of L1 entry {@code l1Index}, 0 for none; unaligned is corruption (QEMU's l2_load caller). */
    private long l2Offset(int l1Index, long[] l1Entries) throws CorruptImageException {
        if (l1Index >= l1Entries.length) return 0;
        long raw = l1Entries[l1Index];
        return raw == 0 ? 0 : L1Entry.checkedL2Offset(resource, geo, l1Index, l1.entryOffset(l1Index).value(), raw);
    }

    /** A damaged L2 entry, reported at its own file offset. */
    private CorruptImageException corruption(long l2Offset, int l2Index, long raw, String what) {
        long at = l2Offset + (long) l2Index * geo.l2EntrySize();
        return new CorruptImageException(resource, "L2 table", at, raw,
                what + " (L2 offset: 0x" + Long.toHexString(l2Offset) + ", L2 index: 0x" + Integer.toHexString(l2Index) + ")");
    }
}
