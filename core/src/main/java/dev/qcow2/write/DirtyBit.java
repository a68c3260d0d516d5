package dev.qcow2.write;

import dev.qcow2.alloc.HeaderPatch;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.FeatureBits;
import dev.qcow2.format.HeaderField;
import dev.qcow2.format.Qcow2Header;

import java.io.IOException;

/**
 * QEMU's lazy-refcounts protocol (qcow2_mark_dirty / qcow2_mark_clean): with lazy_refcounts
 * on, the dirty bit is set and flushed before the first metadata change, and cleared on a
 * clean close once everything is flushed. This engine still writes refcounts eagerly, so a
 * dirty image it leaves behind after a crash has at worst leaked clusters.
 */
final class DirtyBit {
    private final SyncedStorage storage;
    private final boolean lazy;
    private long incompatible;
    private boolean setByUs;

    DirtyBit(SyncedStorage storage, Qcow2Header header) {
        this.storage = storage;
        this.lazy = header.version() >= 3 && header.lazyRefcounts();
        this.incompatible = header.incompatibleFeatures();
    }

    void beforeChange() throws IOException {
        if (!lazy || setByUs) return;
        incompatible |= FeatureBits.INCOMPAT_DIRTY;
        HeaderPatch.write(storage, HeaderField.INCOMPATIBLE_FEATURES.is(incompatible));
        storage.flush();
        setByUs = true;
    }

    void markClean() throws IOException {
        if (!setByUs) return;
        storage.flush();
        incompatible &= ~FeatureBits.INCOMPAT_DIRTY;
        HeaderPatch.write(storage, HeaderField.INCOMPATIBLE_FEATURES.is(incompatible));
        storage.flush();
        setByUs = false;
    }
}
