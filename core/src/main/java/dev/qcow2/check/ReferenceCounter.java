package dev.qcow2.check;

import dev.qcow2.refcount.RefcountReader;
import dev.qcow2.refcount.RefcountUnreadableException;
import dev.qcow2.refcount.ReftableDamage;
import dev.qcow2.Qcow2Exception;
import dev.qcow2.format.BitmapDirectory;
import dev.qcow2.format.BitmapDirectoryEntry;
import dev.qcow2.format.CopiedRule;
import dev.qcow2.format.HeaderExtension;
import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.ReftableEntry;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.walk.DataKind;
import dev.qcow2.walk.MetadataVisitor;
import dev.qcow2.walk.Owner;
import dev.qcow2.walk.Tree;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The check's visitor of the {@link dev.qcow2.walk.MetadataWalk}: counts every range into the
 * {@link ReferenceCounts} (QEMU's qcow2_inc_refcounts_imrt) and reports damage from the hooks
 * exactly where QEMU's check_refcounts_l1/_l2, qcow2_check_bitmaps_refcounts and
 * check_refblocks do. For the active L1 it also evaluates the OFLAG_COPIED rule
 * ({@link CopiedRule}, QEMU's check_oflag_copied) from the same L2 buffer, so every L2 table
 * is read once; those findings are held back in {@link #copiedFindings} because qemu-img
 * reports them after the refcount comparison.
 */
final class ReferenceCounter implements MetadataVisitor<CheckState.Aborted> {
    private final ClusterGeometry geo;
    private final int cs;
    private final long fileLength;
    private final boolean dataFile;
    private final ReferenceCounts imrt;
    private final RefcountReader onDisk;
    private final CheckState state;
    final DeferredFindings copiedFindings = new DeferredFindings();
    /** Host offset that would continue the current L2 table's last data cluster (fragmentation count). */
    private long next;

    ReferenceCounter(ClusterGeometry geo, long fileLength, boolean dataFile, ReferenceCounts imrt,
                     RefcountReader onDisk, CheckState state) {
        this.geo = geo;
        this.cs = geo.clusterSize();
        this.fileLength = fileLength;
        this.dataFile = dataFile;
        this.imrt = imrt;
        this.onDisk = onDisk;
        this.state = state;
    }

    /** qemu-img's name for what a range holds. */
    private static String structure(Owner owner) {
        return switch (owner) {
            case Owner.Header h -> "header";
            case Owner.L1Table t -> t.tree() instanceof Tree.Active ? "active L1 table" : "snapshot L1 table";
            case Owner.L2Table t -> "L2 table";
            case Owner.Data d -> "data cluster";
            case Owner.PreallocatedZero z -> "data cluster";
            case Owner.CompressedData c -> "compressed cluster";
            case Owner.SnapshotTable t -> "snapshot table";
            case Owner.RefcountTable t -> "refcount table";
            case Owner.RefcountBlock b -> "refcount block";
            case Owner.CryptoHeader c -> "LUKS header";
            case Owner.BitmapDirectory d -> "bitmap directory";
            case Owner.BitmapTable t -> "bitmap table";
            case Owner.BitmapData d -> "bitmap data";
        };
    }

    @Override
    public void range(Owner owner, long offset, long length) throws CheckState.Aborted {
        inc(offset, length, structure(owner));
        switch (owner) {
            case Owner.L2Table t when !geo.isClusterAligned(offset) ->
                    state.report(Finding.Type.L2_TABLE_UNALIGNED, "L2 table", offset, -1,
                            String.format("ERROR l2_offset=%x: Table is not cluster aligned; L1 entry corrupted", offset));
            case Owner.RefcountBlock b -> {
                long cluster = offset >>> geo.clusterBits();
                long refs = imrt.get(cluster);
                if (refs != 1) {
                    state.report(Finding.Type.REFBLOCK_SHARED, "refcount block", offset, cluster,
                            "ERROR refcount block " + b.index() + " refcount=" + Long.toUnsignedString(refs));
                }
            }
            default -> { }
        }
    }

    @Override
    public void dataRange(Tree tree, long guestOffset, DataKind kind, long offset, long length) throws CheckState.Aborted {
        inc(offset, length, kind == DataKind.COMPRESSED ? "compressed cluster" : "data cluster");
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

    /** A snapshot whose L1 table pointer is damaged is reported and not walked. */
    @Override
    public boolean snapshot(SnapshotEntry s) {
        if ((s.l1TableOffset() & (cs - 1)) != 0) {
            state.report(Finding.Type.SNAPSHOT_L1_UNALIGNED, "snapshot table", s.entryOffset(), -1, String.format(
                    "ERROR snapshot %s (%s) l1_offset=%#x: L1 table is not cluster aligned; snapshot table entry corrupted",
                    s.id(), s.name(), s.l1TableOffset()));
            return false;
        }
        if (s.l1Size() > Qcow2Header.MAX_L1_BYTES / 8) {
            state.report(Finding.Type.SNAPSHOT_L1_TOO_LARGE, "snapshot table", s.entryOffset(), -1, String.format(
                    "ERROR snapshot %s (%s) l1_size=%#x: L1 table is too large; snapshot table entry corrupted",
                    s.id(), s.name(), s.l1Size()));
            return false;
        }
        return true;
    }

    /** As QEMU, every nonzero L1 entry's L2 table is counted and read, even at offset 0 or unaligned. */
    @Override
    public boolean l1Entry(Tree tree, int index, long entryOffset, long raw) {
        L1Entry entry = new L1Entry(raw);
        if (entry.reservedBits() != 0) {
            state.report(Finding.Type.L1_RESERVED_BITS, tree instanceof Tree.Active ? "active L1 table" : "snapshot L1 table",
                    entryOffset, -1, String.format("ERROR found L1 entry with reserved bits set: %x", raw));
        }
        next = 0;
        return true;
    }

    /**
     * check_refcounts_l2 for one entry. Kept small (reports in separate methods) so that C2
     * inlines it into the walk's loop: it runs for every L2 entry of the image.
     */
    @Override
    public boolean l2Entry(Tree tree, long guestOffset, int i, long at, long raw, long bitmap) {
        boolean active = tree instanceof Tree.Active;
        L2Entry e = L2Entry.decode(raw, bitmap, geo, dataFile);
        if (e instanceof L2Entry.Compressed c) return compressed(c, active, i, at, raw, bitmap);
        if ((raw & L2Entry.STD_RESERVED_MASK) != 0) reportReservedBits(at, raw);
        if (e instanceof L2Entry.Normal || (e instanceof L2Entry.Zero z && z.preallocated())) {
            allocatedCluster(raw, bitmap, active, at);
        } else if (e instanceof L2Entry.Unallocated && (bitmap & L2Entry.BITMAP_ALL_ALLOC) != 0) {
            state.report(Finding.Type.UNALLOCATED_WITH_SUBCLUSTER_ALLOC, "L2 table", at, -1,
                    "ERROR: Unallocated cluster has non-zero subcluster allocation map");
        }
        return true;
    }

    private void reportReservedBits(long at, long raw) {
        state.report(Finding.Type.L2_RESERVED_BITS, "L2 table", at, -1,
                String.format("ERROR found l2 entry with reserved bits set: %x", raw));
    }

    /** A compressed entry: invalid with a data file or a subcluster bitmap (then not counted). */
    private boolean compressed(L2Entry.Compressed c, boolean active, int i, long at, long raw, long bitmap) {
        if (c.copied()) {
            state.report(Finding.Type.COMPRESSED_COPIED, "L2 table", at, -1, String.format(
                    "ERROR: coffset=0x%x: copied flag must never be set for compressed clusters", c.hostOffset()));
        }
        if (dataFile) {
            state.report(Finding.Type.COMPRESSED_WITH_DATA_FILE, "L2 table", at, -1,
                    String.format("ERROR compressed cluster %d with data file, entry=0x%x", i, raw & ~L2Entry.COPIED));
            return false;
        }
        if (bitmap != 0) {
            state.report(Finding.Type.COMPRESSED_WITH_SUBCLUSTER_BITMAP, "L2 table", at, -1, String.format(
                    "ERROR compressed cluster %d with non-zero subcluster allocation bitmap, entry=0x%x",
                    i, raw & ~L2Entry.COPIED));
            return false;
        }
        if (active) {
            state.allocated++;
            state.compressed++;
            state.fragmented++;  // compressed clusters are fragmented by nature (QEMU)
        }
        return true;
    }

    /** A normal or preallocated zero entry: its bitmap and alignment, and the counters of the active tree. */
    private void allocatedCluster(long raw, long bitmap, boolean active, long at) {
        long offset = raw & L2Entry.OFFSET_MASK;
        if (((bitmap >>> 32) & bitmap) != 0) reportBitmapCorrupt(at, offset);
        if (!geo.isClusterAligned(offset)) reportUnaligned(at, offset, raw, bitmap);
        if (active) {
            state.allocated++;
            if (next != 0 && offset != next) state.fragmented++;
            next = offset + cs;
        }
    }

    private void reportBitmapCorrupt(long at, long offset) {
        state.report(Finding.Type.SUBCLUSTER_BITMAP_CORRUPT, "L2 table", at, -1, String.format(
                "ERROR offset=%x: Allocated cluster has corrupted subcluster allocation bitmap", offset));
    }

    private void reportUnaligned(long at, long offset, long raw, long bitmap) {
        boolean containsData = geo.extendedL2() ? (bitmap & L2Entry.BITMAP_ALL_ALLOC) != 0 : (raw & L2Entry.ZERO) == 0;
        if (containsData) {
            state.report(Finding.Type.DATA_CLUSTER_UNALIGNED, "L2 table", at, -1, String.format(
                    "ERROR offset=%x: Data cluster is not properly aligned; L2 entry corrupted.", offset));
        } else {
            state.report(Finding.Type.PREALLOCATED_ZERO_UNALIGNED, "L2 table", at, -1, String.format(
                    "ERROR offset=%x: Preallocated cluster is not properly aligned; L2 entry corrupted.", offset));
        }
    }

    @Override
    public void l2TableDone(Tree tree, int l1Index, long l1Raw, long l2Offset, ByteBuffer table) throws IOException {
        if (tree instanceof Tree.Active && l2Offset != 0) checkCopied(l1Index, l1Raw, l2Offset, table);
    }

    /**
     * check_oflag_copied for one active L1 entry and its L2 table (still in the buffer), by
     * {@link CopiedRule} against the on-disk refcounts. An unreadable refcount skips the entry
     * silently (for the L1 entry: the whole table); compare_refcounts already reported it.
     */
    private void checkCopied(int l1Index, long l1Raw, long l2Offset, ByteBuffer table) throws IOException {
        long refcount;
        try {
            refcount = onDisk.get(l2Offset >>> geo.clusterBits());
        } catch (RefcountUnreadableException u) {
            return;
        }
        if (CopiedRule.apply(l1Raw, refcount) != l1Raw) copiedFindings.add(DeferredFindings.L1, l1Index, l1Raw, refcount);
        CopiedRule.scanL2(table, l2Offset, geo, dataFile, false, (host, at) -> {
            try {
                return onDisk.get(host >>> geo.clusterBits());
            } catch (RefcountUnreadableException u) {
                throw CopiedRule.UNKNOWN;
            }
        }, (j, raw, wanted, rc) -> copiedFindings.add(DeferredFindings.L2, j, raw, rc));
    }

    /** A directory that does not load is one corruption and ends the check (QEMU returns -EINVAL). */
    @Override
    public void bitmapDirectoryUnreadable(HeaderExtension.Bitmaps ext, Qcow2Exception e) throws CheckState.Aborted {
        state.report(Finding.Type.BITMAP_DIRECTORY_INVALID, "bitmap directory", ext.directoryOffset(), -1,
                "ERROR bitmap directory: " + e.getMessage());
        throw new CheckState.Aborted("Invalid argument");
    }

    /** A table with an invalid entry is one corruption and ends the check, before its data is counted. */
    @Override
    public boolean bitmapTable(BitmapDirectoryEntry e, ByteBuffer table) throws CheckState.Aborted {
        for (int i = 0; i < e.tableSize(); i++) {
            long raw = table.getLong(i * 8);
            long offset = raw & BitmapDirectory.TableEntry.OFFSET_MASK;
            boolean bad = (raw & BitmapDirectory.TableEntry.RESERVED_MASK) != 0
                    || (offset != 0 && ((raw & 1) != 0 || (offset & (cs - 1)) != 0));
            if (bad) {
                state.report(Finding.Type.BITMAP_TABLE_INVALID, "bitmap table", e.tableOffset() + 8L * i, -1,
                        String.format("ERROR bitmap '%s' table entry %d is invalid: %x", e.name(), i, raw));
                throw new CheckState.Aborted("Invalid argument");
            }
        }
        return true;
    }

    /** check_refblocks: a damaged reftable entry is reported and its block not counted. */
    @Override
    public boolean reftableEntry(int i, long raw, ReftableDamage damage) throws CheckState.Aborted {
        if (damage == null) return true;
        long offset = damage.refblockOffset();
        // refcount.Reftable#damage tests check_refblocks' rules in its order (reserved bits,
        // alignment, inside the file)
        switch (damage.reason()) {
            case RESERVED_BITS -> state.report(Finding.Type.REFTABLE_RESERVED_BITS, "refcount table", offset, -1,
                    "ERROR refcount table entry " + i + " has reserved bits set");
            case UNALIGNED -> state.report(Finding.Type.REFBLOCK_UNALIGNED, "refcount block", offset, -1,
                    "ERROR refcount block " + i + " is not cluster aligned; refcount table entry corrupted");
            case PAST_END_OF_FILE -> state.report(Finding.Type.REFBLOCK_OUTSIDE_IMAGE, "refcount block", offset,
                    offset >>> geo.clusterBits(), "ERROR refcount block " + i + " is outside image");
        }
        return false;
    }
}
