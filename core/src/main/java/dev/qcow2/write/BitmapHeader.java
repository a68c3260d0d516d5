package dev.qcow2.write;

import dev.qcow2.alloc.HeaderPatch;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.FeatureBits;
import dev.qcow2.format.HeaderExtension;
import dev.qcow2.format.HeaderField;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.Qcow2HeaderEncoder;
import dev.qcow2.format.QemuHeaderLayout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The header writes of persistent bitmaps (QEMU's update_header_sync from qcow2-bitmap.c): the
 * autoclear bit QCOW2_AUTOCLEAR_BITMAPS and the bitmaps extension (nb_bitmaps, directory size
 * and offset). Each call writes and flushes, so the header on disk is always one QEMU could
 * have left.
 */
final class BitmapHeader {
    private final SyncedStorage storage;
    private long autoclear;
    /** The bitmaps extension on disk (its offset in cluster 0), or null when there is none. */
    private HeaderExtension.Bitmaps extension;

    BitmapHeader(SyncedStorage storage, Qcow2Header opened) {
        this.storage = storage;
        this.autoclear = opened.version() >= 3 ? opened.autoclearFeatures() & FeatureBits.AUTOCLEAR_KNOWN : 0;
        this.extension = opened.bitmapsConsistent() ? opened.extension(HeaderExtension.Bitmaps.class).orElse(null) : null;
    }

    /** The extension as opened with its autoclear bit set, or null (QEMU ignores it without the bit). */
    HeaderExtension.Bitmaps extension() { return extension; }

    void setAutoclearBit(boolean on) throws IOException {
        autoclear = on ? autoclear | FeatureBits.AUTOCLEAR_BITMAPS : autoclear & ~FeatureBits.AUTOCLEAR_BITMAPS;
        storage.barrier();
        HeaderPatch.write(storage, HeaderField.AUTOCLEAR_FEATURES.is(autoclear));
        storage.flush();
    }

    /**
     * Points the header at a new directory with the autoclear bit set (update_ext_header_and_dir);
     * {@code nb} 0 drops the extension and the bit. Everything the directory names must be
     * flushed before (the caller's barrier/flush); this flushes after.
     */
    void point(long nb, long dirOffset, long dirSize) throws IOException {
        storage.flush();
        if (nb > 0 && extension != null) {
            // The extension is in place: its 24 data bytes in one write, the autoclear bit already set.
            ByteBuffer b = ByteBuffer.allocate(24);
            b.putInt((int) nb).putInt(0).putLong(dirSize).putLong(dirOffset);
            storage.write(extension.offset() + 8, b.array());
            if ((autoclear & FeatureBits.AUTOCLEAR_BITMAPS) == 0) {
                autoclear |= FeatureBits.AUTOCLEAR_BITMAPS;
                HeaderPatch.write(storage, HeaderField.AUTOCLEAR_FEATURES.is(autoclear));
            }
            storage.flush();
            extension = new HeaderExtension.Bitmaps(extension.offset(), extension.length(), nb, 0, dirSize, dirOffset);
            return;
        }
        // Adding the first or dropping the last: the header laid out again, as qcow2_update_header does.
        Qcow2Header current = Qcow2Header.read(storage.raw());
        List<HeaderExtension> exts = new ArrayList<>();
        for (HeaderExtension e : current.extensions()) if (!(e instanceof HeaderExtension.Bitmaps)) exts.add(e);
        if (nb > 0) exts.add(new HeaderExtension.Bitmaps(0, 24, nb, 0, dirSize, dirOffset));
        autoclear = nb > 0 ? autoclear | FeatureBits.AUTOCLEAR_BITMAPS : autoclear & ~FeatureBits.AUTOCLEAR_BITMAPS;
        Qcow2Header fields = current.toBuilder().extensions(exts).autoclearFeatures(autoclear).build();
        Qcow2Header laid;
        try {
            laid = QemuHeaderLayout.layout(fields, current.backingFormat().orElse(null), current.externalDataFile().orElse(null));
        } catch (QemuHeaderLayout.NoRoomException e) {
            throw new dev.qcow2.Qcow2Exception(storage.describe(), "no room in the header for the bitmaps extension");
        }
        byte[] fresh = Qcow2HeaderEncoder.encode(laid);
        byte[] old = storage.read(0, fresh.length);
        int last = fresh.length - 1;
        while (last >= 0 && fresh[last] == old[last]) last--;
        if (last >= 0) storage.write(0, fresh, 0, last + 1);
        storage.flush();
        extension = laid.extension(HeaderExtension.Bitmaps.class).orElse(null);
    }
}
