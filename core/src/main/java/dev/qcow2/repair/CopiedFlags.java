package dev.qcow2.repair;

import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.refcount.RefcountUnreadableException;
import dev.qcow2.storage.WritableStorage;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * QEMU's {@code check_oflag_copied} with repair: in the active L1 and its L2 tables, COPIED must
 * be set exactly when the on-disk refcount is 1 (an external data file implies 1). It runs after
 * the refcounts were fixed, so it trusts them; an unreadable refcount skips the entry silently.
 */
final class CopiedFlags {
    /** Mismatches found, and how many of them were rewritten. */
    record Result(long found, long fixed) { }

    private CopiedFlags() { }

    static Result fix(WritableStorage storage, Qcow2Header h, RefcountStore refcounts, boolean repair,
                      Consumer<String> messages) throws IOException {
        ClusterGeometry geo = h.geometry();
        int cs = geo.clusterSize();
        boolean dataFile = h.hasExternalDataFile();
        long found = 0, fixed = 0;
        ByteBuffer l1 = ByteBuffer.wrap(storage.read(h.l1TableOffset(), (int) h.l1Size() * 8));
        for (int i = 0; i < h.l1Size(); i++) {
            long l1Entry = l1.getLong(i * 8);
            long l2Offset = l1Entry & L1Entry.OFFSET_MASK;
            if (l2Offset == 0) continue;
            long rc;
            try {
                rc = refcounts.get(l2Offset >>> geo.clusterBits());
            } catch (RefcountUnreadableException u) {
                continue;
            }
            if ((rc == 1) != ((l1Entry & L1Entry.COPIED) != 0)) {
                found++;
                messages.accept(String.format("%s OFLAG_COPIED L2 cluster: l1_index=%d l1_entry=%x refcount=%s",
                        repair ? "Repairing" : "ERROR", i, l1Entry, Long.toUnsignedString(rc)));
                if (repair) {
                    long entry = rc == 1 ? l1Entry | L1Entry.COPIED : l1Entry & ~L1Entry.COPIED;
                    storage.write(h.l1TableOffset() + 8L * i, ByteBuffer.allocate(8).putLong(0, entry));
                    fixed++;
                }
            }
            ByteBuffer l2 = ByteBuffer.wrap(storage.read(l2Offset, cs));
            int dirty = 0;
            for (int j = 0; j < geo.l2Entries(); j++) {
                int at = j * geo.l2EntrySize();
                long raw = l2.getLong(at);
                L2Entry e = L2Entry.decode(raw, 0, geo, dataFile);
                if (!(e instanceof L2Entry.Normal || (e instanceof L2Entry.Zero z && z.preallocated()))) continue;
                long refcount = 1;
                if (!dataFile) {
                    try {
                        refcount = refcounts.get((raw & L2Entry.OFFSET_MASK) >>> geo.clusterBits());
                    } catch (RefcountUnreadableException u) {
                        continue;
                    }
                }
                if ((refcount == 1) != ((raw & L2Entry.COPIED) != 0)) {
                    found++;
                    messages.accept(String.format("%s OFLAG_COPIED data cluster: l2_entry=%x refcount=%s",
                            repair ? "Repairing" : "ERROR", raw, Long.toUnsignedString(refcount)));
                    if (repair) {
                        l2.putLong(at, refcount == 1 ? raw | L2Entry.COPIED : raw & ~L2Entry.COPIED);
                        dirty++;
                    }
                }
            }
            if (dirty > 0) {
                storage.write(l2Offset, l2.clear());
                fixed += dirty;
            }
        }
        return new Result(found, fixed);
    }
}
