package dev.qcow2.repair;

import dev.qcow2.format.CopiedRule;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.refcount.RefcountUnreadableException;
import dev.qcow2.storage.WritableStorage;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.walk.MetadataVisitor;
import dev.qcow2.walk.MetadataWalk;
import dev.qcow2.walk.Owner;
import dev.qcow2.walk.Tree;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * QEMU's {@code check_oflag_copied} with repair: the {@link CopiedRule} over the active L1 and
 * its L2 tables (walked by the {@link MetadataWalk}). It runs after the refcounts were fixed,
 * so it trusts them; an unreadable refcount skips the entry silently (for an L1 entry: its
 * whole table).
 */
final class CopiedFlags {
    /** Mismatches found, and how many of them were rewritten. */
    record Result(long found, long fixed) { }

    private CopiedFlags() { }

    static Result fix(WritableStorage storage, Qcow2Header h, RefcountStore refcounts, boolean repair,
                      Consumer<String> messages) throws IOException {
        ClusterGeometry geo = h.geometry();
        boolean dataFile = h.hasExternalDataFile();
        String verb = repair ? "Repairing" : "ERROR";
        long[] counts = new long[2];   // found, fixed
        new MetadataWalk(storage, h).tree(Tree.ACTIVE, h.l1TableOffset(), h.l1Size(), new MetadataVisitor<RuntimeException>() {
            @Override public void range(Owner owner, long offset, long length) { }

            @Override public boolean l2Entry(Tree tree, long guest, int index, long at, long raw, long bitmap) { return false; }

            @Override
            public void l2TableDone(Tree tree, int i, long l1Entry, long l2Offset, ByteBuffer table) throws IOException {
                long rc;
                try {
                    rc = refcounts.get(l2Offset >>> geo.clusterBits());
                } catch (RefcountUnreadableException u) {
                    return;
                }
                long l1Wanted = CopiedRule.apply(l1Entry, rc);
                if (l1Wanted != l1Entry) {
                    counts[0]++;
                    messages.accept(String.format("%s OFLAG_COPIED L2 cluster: l1_index=%d l1_entry=%x refcount=%s",
                            verb, i, l1Entry, Long.toUnsignedString(rc)));
                    if (repair) {
                        storage.write(h.l1TableOffset() + 8L * i, ByteBuffer.allocate(8).putLong(0, l1Wanted));
                        counts[1]++;
                    }
                }
                ByteBuffer fixedTable = repair ? ByteBuffer.wrap(new byte[table.capacity()]).put(0, table, 0, table.capacity()) : null;
                int[] dirty = {0};
                CopiedRule.scanL2(table, l2Offset, geo, dataFile, false, (host, at) -> {
                    try {
                        return refcounts.get(host >>> geo.clusterBits());
                    } catch (RefcountUnreadableException u) {
                        throw CopiedRule.UNKNOWN;
                    }
                }, (j, raw, wanted, refcount) -> {
                    counts[0]++;
                    messages.accept(String.format("%s OFLAG_COPIED data cluster: l2_entry=%x refcount=%s",
                            verb, raw, Long.toUnsignedString(refcount)));
                    if (repair) {
                        fixedTable.putLong(j * geo.l2EntrySize(), wanted);
                        dirty[0]++;
                    }
                });
                if (dirty[0] > 0) {
                    storage.write(l2Offset, fixedTable.clear());
                    counts[1] += dirty[0];
                }
            }
        });
        return new Result(counts[0], counts[1]);
    }
}
