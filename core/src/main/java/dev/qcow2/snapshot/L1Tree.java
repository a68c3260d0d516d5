package dev.qcow2.snapshot;

import dev.qcow2.CorruptImageException;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.mapping.L1Table;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.units.HostOffset;
import dev.qcow2.walk.DataKind;
import dev.qcow2.walk.MetadataVisitor;
import dev.qcow2.walk.MetadataWalk;
import dev.qcow2.walk.Owner;
import dev.qcow2.walk.Tree;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The host ranges one L1 table holds references on (qcow2.rst "Host cluster management"), as
 * QEMU's qcow2_update_snapshot_refcount counts them, found by the {@link MetadataWalk}: each L2
 * table it names, and each host cluster those tables map (normal and preallocated-zero entries
 * one cluster, compressed entries every host cluster their payload touches). An unaligned L2
 * table or data cluster offset is refused (CorruptImageException at the entry's file offset)
 * before anything is visited past it.
 */
final class L1Tree {
    /** Receives one referenced range of the host file. */
    interface RangeVisitor {
        void range(long offset, long length) throws IOException;
    }

    /** Receives each L2 table of a tree after its entries: the L1 index naming it, its offset and entries (the walk's buffer: copy before changing). */
    interface TableVisitor {
        void table(int l1Index, long l2Offset, ByteBuffer entries) throws IOException;
    }

    private final SyncedStorage storage;
    private final ClusterGeometry geo;
    private final MetadataWalk walk;

    L1Tree(SyncedStorage storage, Qcow2Header header) {
        this.storage = storage;
        this.geo = header.geometry();
        this.walk = new MetadataWalk(storage.raw(), header);
    }

    /** The L1 table at {@code offset} with the entries {@code l1} (held in memory, maybe changed). */
    static L1Table at(long offset, long[] l1) { return L1Table.fixed(new HostOffset(offset), l1); }

    /** Visits every range the tree references: for each L2 table the data it maps, then the table. */
    void visit(Tree tree, L1Table l1, RangeVisitor visitor) throws IOException {
        walk.tree(tree, l1, new Checked() {
            @Override public void range(Owner owner, long offset, long length) { }
            @Override public void dataRange(Tree t, long guest, DataKind kind, long offset, long length) throws IOException {
                visitor.range(offset, length);
            }
            @Override public boolean l2Entry(Tree t, long guest, int index, long at, long raw, long bitmap)
                    throws CorruptImageException {
                L2Entry e = walk.decode(raw, bitmap);
                long host = switch (e) {
                    case L2Entry.Normal n -> n.hostOffset();
                    case L2Entry.Zero z -> z.hostOffset();
                    case L2Entry.Compressed c -> 0;
                    case L2Entry.Unallocated u -> 0;
                };
                if (!geo.isClusterAligned(host)) {
                    throw new CorruptImageException(storage.describe(), "L2 table", at, e.raw(),
                            "Cluster allocation offset 0x" + Long.toHexString(host) + " unaligned");
                }
                return true;
            }
            @Override public void l2TableDone(Tree t, int l1Index, long l1Raw, long l2Offset, ByteBuffer table) throws IOException {
                visitor.range(l2Offset, geo.clusterSize());
            }
        });
    }

    /** Visits each L2 table of the tree (no data ranges). */
    void tables(Tree tree, L1Table l1, TableVisitor visitor) throws IOException {
        walk.tree(tree, l1, new Checked() {
            @Override public void range(Owner owner, long offset, long length) { }
            @Override public boolean l2Entry(Tree t, long guest, int index, long at, long raw, long bitmap) { return false; }
            @Override public void l2TableDone(Tree t, int l1Index, long l1Raw, long l2Offset, ByteBuffer table) throws IOException {
                visitor.table(l1Index, l2Offset, table);
            }
        });
    }

    /** Refuses an L1 entry naming an unaligned L2 table, as QEMU does; walks only entries naming one. */
    private abstract class Checked implements MetadataVisitor<RuntimeException> {
        @Override
        public boolean l1Entry(Tree tree, int i, long entryOffset, long raw) throws CorruptImageException {
            return L1Entry.checkedL2Offset(storage.describe(), geo, i, entryOffset, raw) != 0;
        }
    }
}
