package dev.qcow2.check;

import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import dev.qcow2.refcount.RefcountReader;
import dev.qcow2.refcount.RefcountUnreadableException;
import dev.qcow2.storage.Storage;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Counts references into the {@link ReferenceCounts} while checking L1 and L2 entries, as
 * QEMU's {@code qcow2_inc_refcounts_imrt}, {@code check_refcounts_l1} and
 * {@code check_refcounts_l2}. For the active L1 it also evaluates the OFLAG_COPIED rule
 * ({@code check_oflag_copied}) from the same L2 buffer, so every L2 table is read once; those
 * findings are held back in {@link #copiedFindings} because qemu-img reports them after the
 * refcount comparison.
 */
final class TableWalker {
    private static final long COMPRESSED_SECTOR = 512;

    private final Storage storage;
    private final ClusterGeometry geo;
    private final int cs;
    private final long fileLength;
    private final boolean dataFile;
    private final ReferenceCounts imrt;
    private final RefcountReader onDisk;
    private final CheckState state;
    final DeferredFindings copiedFindings = new DeferredFindings();
    private final byte[] l2 ;
    private final ByteBuffer l2View;

    TableWalker(Storage storage, ClusterGeometry geo, long fileLength, boolean dataFile, ReferenceCounts imrt,
                RefcountReader onDisk, CheckState state) {
        this.storage = storage;
        this.geo = geo;
        this.cs = geo.clusterSize();
        this.fileLength = fileLength;
        this.dataFile = dataFile;
        this.imrt = imrt;
        this.onDisk = onDisk;
        this.state = state;
        this.l2 = new byte[cs];
        this.l2View = ByteBuffer.wrap(l2);
    }

    /**
     * Adds one reference to every cluster of [offset, offset+size). A region that ends one cluster
     * or more past the end of the file is a corruption and is not counted (the last cluster
     * may be partly allocated, so less than a cluster past the end is fine).
     */
    void inc(long offset, long size, String structure) throws CheckState.Aborted {
        if (size <= 0) return;
        if (offset + size - fileLength >= cs) {
            state.report(Finding.Type.REGION_PAST_EOF, structure, offset, offset >>> geo.clusterBits(),
                    String.format("ERROR: counting reference for region exceeding the end of the file by one cluster "
                            + "or more: offset 0x%x size 0x%x", offset, size));
            return;
        }
        if (offset < 0) throw new CheckState.Aborted("Cannot allocate memory");  // QEMU: realloc of a huge IMRT fails
        long start = offset & -(long) cs;
        long last = (offset + size - 1) & -(long) cs;
        for (long c = start; c <= last; c += cs) {
            long k = c >>> geo.clusterBits();
            if (!imrt.increment(k)) {
                state.report(Finding.Type.REFCOUNT_OVERFLOW, structure, c, k,
                        String.format("ERROR: overflow cluster offset=0x%x", c));
            }
        }
    }

    /** check_refcounts_l1: the L1 table, its L2 tables and everything they reference. */
    void walkL1(long l1Offset, long l1Size, boolean active, String structure) throws IOException, CheckState.Aborted {
        if (l1Size == 0) return;
        inc(l1Offset, l1Size * 8, structure);
        ByteBuffer l1 = ByteBuffer.allocate((int) (l1Size * 8));
        storage.readFully(l1Offset, l1);
        for (int i = 0; i < l1Size; i++) {
            long raw = l1.getLong(i * 8);
            if (raw == 0) continue;
            L1Entry entry = new L1Entry(raw);
            if (entry.reservedBits() != 0) {
                state.report(Finding.Type.L1_RESERVED_BITS, structure, l1Offset + 8L * i, -1,
                        String.format("ERROR found L1 entry with reserved bits set: %x", raw));
            }
            long l2Offset = entry.l2Offset();
            inc(l2Offset, cs, "L2 table");
            if (!geo.isClusterAligned(l2Offset)) {
                state.report(Finding.Type.L2_TABLE_UNALIGNED, "L2 table", l2Offset, -1,
                        String.format("ERROR l2_offset=%x: Table is not cluster aligned; L1 entry corrupted", l2Offset));
            }
            storage.readFully(l2Offset, l2View.clear());
            walkL2(l2Offset, active);
            if (active && l2Offset != 0) checkCopied(i, raw, l2Offset);
        }
    }

    private void walkL2(long l2Offset, boolean active) throws CheckState.Aborted {
        int entrySize = geo.l2EntrySize();
        long next = 0;
        for (int i = 0; i < geo.l2Entries(); i++) {
            long raw = l2View.getLong(i * entrySize);
            long bitmap = geo.extendedL2() ? l2View.getLong(i * entrySize + 8) : 0;
            long at = l2Offset + (long) i * entrySize;
            L2Entry e = L2Entry.decode(raw, bitmap, geo, dataFile);
            if (!(e instanceof L2Entry.Compressed) && (raw & L2Entry.STD_RESERVED_MASK) != 0) {
                state.report(Finding.Type.L2_RESERVED_BITS, "L2 table", at, -1,
                        String.format("ERROR found l2 entry with reserved bits set: %x", raw));
            }
            if (e instanceof L2Entry.Compressed c) {
                if (c.copied()) {
                    state.report(Finding.Type.COMPRESSED_COPIED, "L2 table", at, -1, String.format(
                            "ERROR: coffset=0x%x: copied flag must never be set for compressed clusters", c.hostOffset()));
                }
                if (dataFile) {
                    state.report(Finding.Type.COMPRESSED_WITH_DATA_FILE, "L2 table", at, -1,
                            String.format("ERROR compressed cluster %d with data file, entry=0x%x", i, raw & ~L2Entry.COPIED));
                    continue;
                }
                if (bitmap != 0) {
                    state.report(Finding.Type.COMPRESSED_WITH_SUBCLUSTER_BITMAP, "L2 table", at, -1, String.format(
                            "ERROR compressed cluster %d with non-zero subcluster allocation bitmap, entry=0x%x",
                            i, raw & ~L2Entry.COPIED));
                    continue;
                }
                long csize = (long) c.sectors() * COMPRESSED_SECTOR - (c.hostOffset() & (COMPRESSED_SECTOR - 1));
                inc(c.hostOffset(), csize, "compressed cluster");
                if (active) {
                    state.allocated++;
                    state.compressed++;
                    state.fragmented++;  // compressed clusters are fragmented by nature (QEMU)
                }
            } else if (e instanceof L2Entry.Normal || (e instanceof L2Entry.Zero z && z.preallocated())) {
                long offset = raw & L2Entry.OFFSET_MASK;
                if (((bitmap >>> 32) & bitmap) != 0) {
                    state.report(Finding.Type.SUBCLUSTER_BITMAP_CORRUPT, "L2 table", at, -1, String.format(
                            "ERROR offset=%x: Allocated cluster has corrupted subcluster allocation bitmap", offset));
                }
                if (!geo.isClusterAligned(offset)) {
                    boolean containsData = geo.extendedL2() ? (bitmap & L2Entry.BITMAP_ALL_ALLOC) != 0
                            : (raw & L2Entry.ZERO) == 0;
                    if (containsData) {
                        state.report(Finding.Type.DATA_CLUSTER_UNALIGNED, "L2 table", at, -1, String.format(
                                "ERROR offset=%x: Data cluster is not properly aligned; L2 entry corrupted.", offset));
                    } else {
                        state.report(Finding.Type.PREALLOCATED_ZERO_UNALIGNED, "L2 table", at, -1, String.format(
                                "ERROR offset=%x: Preallocated cluster is not properly aligned; L2 entry corrupted.", offset));
                    }
                }
                if (active) {
                    state.allocated++;
                    if (next != 0 && offset != next) state.fragmented++;
                    next = offset + cs;
                }
                if (!dataFile) inc(offset, cs, "data cluster");
            } else if (e instanceof L2Entry.Unallocated && (bitmap & L2Entry.BITMAP_ALL_ALLOC) != 0) {
                state.report(Finding.Type.UNALLOCATED_WITH_SUBCLUSTER_ALLOC, "L2 table", at, -1,
                        "ERROR: Unallocated cluster has non-zero subcluster allocation map");
            }
        }
    }

    /**
     * check_oflag_copied for one active L1 entry and its L2 table (still in the buffer): COPIED
     * must be set exactly when the on-disk refcount is 1 (a data file implies 1). An unreadable
     * refcount skips the entry silently; compare_refcounts already reported it.
     */
    private void checkCopied(int l1Index, long l1Raw, long l2Offset) throws IOException {
        long refcount;
        try {
            refcount = onDisk.get(l2Offset >>> geo.clusterBits());
        } catch (RefcountUnreadableException u) {
            return;
        }
        if ((refcount == 1) != ((l1Raw & L1Entry.COPIED) != 0)) {
            copiedFindings.add(DeferredFindings.L1, l1Index, l1Raw, refcount);
        }
        int entrySize = geo.l2EntrySize();
        for (int j = 0; j < geo.l2Entries(); j++) {
            long raw = l2View.getLong(j * entrySize);
            L2Entry e = L2Entry.decode(raw, 0, geo, dataFile);
            if (!(e instanceof L2Entry.Normal || (e instanceof L2Entry.Zero z && z.preallocated()))) continue;
            long rc;
            if (dataFile) {
                rc = 1;
            } else {
                try {
                    rc = onDisk.get((raw & L2Entry.OFFSET_MASK) >>> geo.clusterBits());
                } catch (RefcountUnreadableException u) {
                    continue;
                }
            }
            if ((rc == 1) != ((raw & L2Entry.COPIED) != 0)) copiedFindings.add(DeferredFindings.L2, j, raw, rc);
        }
    }
}
