package dev.qcow2.view;

import dev.qcow2.image.Qcow2Image;
import dev.qcow2.refcount.RefcountReader;

import java.io.IOException;

/**
 * The refcounts recorded in the image, through the core's one reader ({@link RefcountReader},
 * QEMU's qcow2_get_refcount): a refcount under an unreadable reftable entry (an unaligned
 * refcount block, -EIO in QEMU) is null, which every rendering shows as an empty cell.
 */
final class RecordedRefcounts {
    private final RefcountReader reader;
    private final int clusterBits;

    private RecordedRefcounts(RefcountReader reader, int clusterBits) {
        this.reader = reader;
        this.clusterBits = clusterBits;
    }

    static RecordedRefcounts open(Qcow2Image img) throws IOException {
        return new RecordedRefcounts(RefcountReader.open(img.storage(), img.header()), img.geometry().clusterBits());
    }

    RefcountReader reader() { return reader; }

    /** The refcount of host cluster {@code cluster}, null when unreadable. */
    Long of(long cluster) throws IOException {
        long rc = reader.getOr(cluster, -1);
        return rc < 0 ? null : rc;
    }

    /** The refcount of the host cluster holding byte {@code hostOffset}, null when unreadable. */
    Long at(long hostOffset) throws IOException { return of(hostOffset >>> clusterBits); }
}
