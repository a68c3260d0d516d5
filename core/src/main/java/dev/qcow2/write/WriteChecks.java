package dev.qcow2.write;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.UnsupportedFeatureException;
import dev.qcow2.alloc.HeaderPatch;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.FeatureBits;
import dev.qcow2.format.HeaderContradiction;
import dev.qcow2.format.HeaderField;
import dev.qcow2.format.Qcow2Header;

import java.io.IOException;

/** What a write open refuses, and the header fix-up it does, as QEMU's qcow2_do_open for read/write. */
final class WriteChecks {
    private WriteChecks() { }

    static void refuseUnwritable(String res, Qcow2Header h) throws Qcow2Exception {
        if (h.isCorrupt()) throw new Qcow2Exception(res, "qcow2: Image is corrupt; cannot be opened read/write");
        HeaderContradiction.refuse(res, h, false);
        if (h.isDirty()) {
            // QEMU would repair here; this library never repairs implicitly.
            throw new dev.qcow2.DirtyImageException(res);
        }
        if (h.hasExternalDataFile()) {
            throw new UnsupportedFeatureException(res, "writing images with an external data file is not supported");
        }
    }

    /** QEMU clears autoclear bits it does not know when it opens an image read/write. */
    static void clearUnknownAutoclear(SyncedStorage storage, Qcow2Header h) throws IOException {
        if (h.version() < 3) return;
        long unknown = h.autoclearFeatures() & ~FeatureBits.AUTOCLEAR_KNOWN;
        if (unknown == 0) return;
        HeaderPatch.write(storage, HeaderField.AUTOCLEAR_FEATURES.is(h.autoclearFeatures() & FeatureBits.AUTOCLEAR_KNOWN));
        storage.flush();
    }
}
