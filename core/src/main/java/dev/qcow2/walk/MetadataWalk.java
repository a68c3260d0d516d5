package dev.qcow2.walk;

import dev.qcow2.ImageLimitException;
import dev.qcow2.Qcow2Exception;
import dev.qcow2.format.BitmapDirectory;
import dev.qcow2.format.BitmapDirectoryEntry;
import dev.qcow2.format.HeaderExtension;
import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.ReftableEntry;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.mapping.L1Table;
import dev.qcow2.refcount.Reftable;
import dev.qcow2.storage.Storage;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.units.HostOffset;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The one walk over an image's metadata: every host range the format references, with its
 * {@link Owner}, in the order of QEMU's qcow2_check_refcounts: the header cluster; the active
 * L1 table, its L2 tables and their data; each snapshot's L1 table, L2 tables and data; the
 * snapshot table; the refcount table; the LUKS header area; the bitmap directory, each bitmap
 * table and its data clusters; the refcount blocks. {@link #walk} does all of it; the steps are
 * public so that check can report between them exactly where qemu-img does.
 *
 * <p>Streaming: one L2 buffer is reused, each L2 table is read once, and data ranges go to
 * {@link MetadataVisitor#dataRange} as primitives. The walk validates nothing itself: damage is
 * the visitor's to judge through the hooks (it reads an L2 table wherever an L1 entry the
 * visitor accepts points).
 */
public final class MetadataWalk {
    private final Storage storage;
    private final Qcow2Header header;
    private final ClusterGeometry geo;
    private final int cs;
    private final boolean dataFile;
    private final ByteBuffer l2;

    public MetadataWalk(Storage storage, Qcow2Header header) {
        this.storage = storage;
        this.header = header;
        this.geo = header.geometry();
        this.cs = geo.clusterSize();
        this.dataFile = header.hasExternalDataFile();
        this.l2 = ByteBuffer.wrap(new byte[cs]);
    }

    /** Walks everything {@code image} references (snapshots as the image lists them). */
    public static <X extends Exception> void walk(Qcow2Image image, MetadataVisitor<X> visitor) throws IOException, X {
        MetadataWalk w = new MetadataWalk(image.storage(), image.header());
        w.walk(image.snapshots(), Reftable.read(image.storage(), image.header(), Reftable.Policy.QEMU), visitor);
    }

    /** Every step in order, over {@code snapshots} and the refcount table {@code reftable}. */
    public <X extends Exception> void walk(List<SnapshotEntry> snapshots, Reftable reftable, MetadataVisitor<X> visitor)
            throws IOException, X {
        header(visitor);
        activeTree(visitor);
        snapshotTrees(snapshots, visitor);
        snapshotTable(header.snapshotsOffset(), snapshotTableSize(header, snapshots), visitor);
        refcountTable(reftable.size(), visitor);
        cryptoHeader(visitor);
        bitmaps(visitor);
        refcountBlocks(reftable, visitor);
    }

    public <X extends Exception> void header(MetadataVisitor<X> v) throws IOException, X {
        v.range(new Owner.Header(), 0, cs);
    }

    public <X extends Exception> void activeTree(MetadataVisitor<X> v) throws IOException, X {
        tree(Tree.ACTIVE, header.l1TableOffset(), header.l1Size(), v);
    }

    public <X extends Exception> void snapshotTrees(List<SnapshotEntry> snapshots, MetadataVisitor<X> v) throws IOException, X {
        for (SnapshotEntry s : snapshots) {
            if (v.snapshot(s)) tree(new Tree.Snapshot(s.id(), s.name()), s.l1TableOffset(), s.l1Size(), v);
        }
    }

    /**
     * One tree (QEMU's check_refcounts_l1): the L1 table, then for each nonzero entry the
     * visitor accepts, the L2 table's range, each of its entries and their data ranges.
     */
    public <X extends Exception> void tree(Tree tree, long l1Offset, long l1Size, MetadataVisitor<X> v) throws IOException, X {
        if (l1Size == 0) return;
        if (l1Size < 0 || l1Size > Qcow2Header.MAX_L1_BYTES / 8) {
            throw new ImageLimitException(storage.describe(), "L1 table of " + tree.describe() + " at offset 0x"
                    + Long.toHexString(l1Offset) + " has " + l1Size + " entries, more than the format allows");
        }
        ByteBuffer bytes = ByteBuffer.allocate((int) (l1Size * 8));
        storage.readFully(l1Offset, bytes);
        long[] entries = new long[(int) l1Size];
        bytes.flip().asLongBuffer().get(entries);
        tree(tree, L1Table.fixed(new HostOffset(l1Offset), entries), v);
    }

    /**
     * {@link #tree(Tree, long, long, MetadataVisitor)} over L1 entries held in memory (a table
     * being changed: snapshot create and apply work on a copy of the active table).
     */
    public <X extends Exception> void tree(Tree tree, L1Table l1, MetadataVisitor<X> v) throws IOException, X {
        long[] entries = l1.entries();
        if (entries.length == 0) return;
        v.range(new Owner.L1Table(tree), l1.offset().value(), 8L * entries.length);
        long perTable = geo.bytesPerL2Table();
        for (int i = 0; i < entries.length; i++) {
            long raw = entries[i];
            if (raw == 0 || !v.l1Entry(tree, i, l1.entryOffset(i).value(), raw)) continue;
            long l2Offset = raw & L1Entry.OFFSET_MASK;
            v.range(new Owner.L2Table(tree, i * perTable), l2Offset, cs);
            storage.readFully(l2Offset, l2.clear());
            entries(tree, i * perTable, l2Offset, v);
            v.l2TableDone(tree, i, raw, l2Offset, l2.clear());
        }
    }

    private <X extends Exception> void entries(Tree tree, long guestBase, long l2Offset, MetadataVisitor<X> v)
            throws IOException, X {
        int entrySize = geo.l2EntrySize();
        boolean extended = geo.extendedL2();
        int bits = geo.clusterBits();
        for (int j = 0; j < geo.l2Entries(); j++) {
            long raw = l2.getLong(j * entrySize);
            long bitmap = extended ? l2.getLong(j * entrySize + 8) : 0;
            long guest = guestBase + ((long) j << bits);
            if (!v.l2Entry(tree, guest, j, l2Offset + (long) j * entrySize, raw, bitmap)) continue;
            // with an external data file, data is not in this file; a compressed entry is invalid
            // with a data file or a subcluster bitmap and references nothing
            if (dataFile) continue;
            L2Entry e = L2Entry.decode(raw, bitmap, geo, false);   // local: C2 keeps it off the heap
            if (e instanceof L2Entry.Normal n) {
                v.dataRange(tree, guest, DataKind.NORMAL, n.hostOffset(), cs);
            } else if (e instanceof L2Entry.Zero z) {
                if (z.preallocated()) v.dataRange(tree, guest, DataKind.PREALLOCATED_ZERO, z.hostOffset(), cs);
            } else if (e instanceof L2Entry.Compressed c) {
                if (c.bitmap() == 0) v.dataRange(tree, guest, DataKind.COMPRESSED, c.hostOffset(), compressedLength(c));
            }
        }
    }

    /** The entry an L2 slot holds, decoded for this image (external data file or not). */
    public L2Entry decode(long raw, long bitmap) {
        return L2Entry.decode(raw, bitmap, geo, dataFile);
    }

    /** The host bytes a compressed entry references: its sectors minus the offset into the first one. */
    public static long compressedLength(L2Entry.Compressed c) {
        return c.lastHostByte() - c.firstHostByte() + 1;
    }

    public <X extends Exception> void snapshotTable(long offset, long size, MetadataVisitor<X> v) throws IOException, X {
        if (size > 0) v.range(new Owner.SnapshotTable(), offset, size);
    }

    /** Bytes from the table's start to the end of the last entry (0 without snapshots). */
    public static long snapshotTableSize(Qcow2Header header, List<SnapshotEntry> snapshots) {
        if (snapshots.isEmpty()) return 0;
        SnapshotEntry last = snapshots.getLast();
        return last.entryOffset() + last.length() - header.snapshotsOffset();
    }

    public <X extends Exception> void refcountTable(long entries, MetadataVisitor<X> v) throws IOException, X {
        v.range(new Owner.RefcountTable(), header.refcountTableOffset(), entries * 8);
    }

    public <X extends Exception> void cryptoHeader(MetadataVisitor<X> v) throws IOException, X {
        HeaderExtension.CryptoHeader crypto = header.extension(HeaderExtension.CryptoHeader.class).orElse(null);
        if (crypto != null && crypto.headerLength() != 0) {
            v.range(new Owner.CryptoHeader(), crypto.headerOffset(), crypto.headerLength());
        }
    }

    /**
     * QEMU's qcow2_check_bitmaps_refcounts: the directory, each bitmap's table and its data
     * clusters. Without the autoclear bit QEMU ignores the extension (the bitmaps are
     * inconsistent), and so does the walk.
     */
    public <X extends Exception> void bitmaps(MetadataVisitor<X> v) throws IOException, X {
        HeaderExtension.Bitmaps ext = header.extension(HeaderExtension.Bitmaps.class).orElse(null);
        if (ext == null || !header.bitmapsConsistent() || ext.nbBitmaps() == 0) return;
        v.range(new Owner.BitmapDirectory(), ext.directoryOffset(), ext.directorySize());
        List<BitmapDirectoryEntry> entries;
        try {
            entries = BitmapDirectory.read(storage, header);
        } catch (Qcow2Exception e) {
            v.bitmapDirectoryUnreadable(ext, e);
            return;
        }
        for (BitmapDirectoryEntry e : entries) {
            v.range(new Owner.BitmapTable(e.name()), e.tableOffset(), e.tableSize() * 8);
            ByteBuffer table = ByteBuffer.allocate((int) (e.tableSize() * 8));
            storage.readFully(e.tableOffset(), table);
            if (!v.bitmapTable(e, table)) continue;
            for (int i = 0; i < e.tableSize(); i++) {
                long offset = table.getLong(i * 8) & BitmapDirectory.TableEntry.OFFSET_MASK;
                if (offset != 0) v.range(new Owner.BitmapData(e.name(), i), offset, cs);
            }
        }
    }

    /** check_refblocks: each refcount block the table names. */
    public <X extends Exception> void refcountBlocks(Reftable reftable, MetadataVisitor<X> v) throws IOException, X {
        for (int i = 0; i < reftable.size(); i++) {
            // refcount.Reftable judges each entry once (reserved bits, alignment, inside the file)
            if (!v.reftableEntry(i, reftable.raw(i), reftable.damage(i))) continue;
            long offset = reftable.raw(i) & ReftableEntry.OFFSET_MASK;
            if (offset != 0) v.range(new Owner.RefcountBlock(i), offset, cs);
        }
    }

}
