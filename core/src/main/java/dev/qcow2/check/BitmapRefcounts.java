package dev.qcow2.check;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.format.BitmapDirectory;
import dev.qcow2.format.BitmapDirectoryEntry;
import dev.qcow2.format.HeaderExtension;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.storage.Storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * QEMU's {@code qcow2_check_bitmaps_refcounts}: the bitmap directory, each bitmap table and
 * each bitmap data cluster are referenced once. A directory that does not load, or a table
 * with an invalid entry, is one corruption and ends the check (QEMU returns -EINVAL).
 */
final class BitmapRefcounts {
    private BitmapRefcounts() { }

    static void count(Qcow2Image image, TableWalker walker, CheckState state) throws IOException, CheckState.Aborted {
        Qcow2Header h = image.header();
        HeaderExtension.Bitmaps ext = h.extension(HeaderExtension.Bitmaps.class).orElse(null);
        // Without the autoclear bit QEMU ignores the extension: the bitmaps are inconsistent.
        if (ext == null || !h.bitmapsConsistent() || ext.nbBitmaps() == 0) return;
        walker.inc(ext.directoryOffset(), ext.directorySize(), "bitmap directory");
        List<BitmapDirectoryEntry> entries;
        try {
            entries = BitmapDirectory.read(image.storage(), h);
        } catch (Qcow2Exception e) {
            state.report(Finding.Type.BITMAP_DIRECTORY_INVALID, "bitmap directory", ext.directoryOffset(), -1,
                    "ERROR bitmap directory: " + e.getMessage());
            throw new CheckState.Aborted("Invalid argument");
        }
        Storage storage = image.storage();
        int cs = h.clusterSize();
        for (BitmapDirectoryEntry e : entries) {
            walker.inc(e.tableOffset(), e.tableSize() * 8, "bitmap table");
            ByteBuffer table = ByteBuffer.allocate((int) (e.tableSize() * 8));
            storage.readFully(e.tableOffset(), table);
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
            for (int i = 0; i < e.tableSize(); i++) {
                long offset = table.getLong(i * 8) & BitmapDirectory.TableEntry.OFFSET_MASK;
                if (offset != 0) walker.inc(offset, cs, "bitmap data");
            }
        }
    }
}
