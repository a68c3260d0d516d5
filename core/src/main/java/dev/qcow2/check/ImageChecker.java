package dev.qcow2.check;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.format.BitmapDirectoryEntry;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.image.Encryption;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.refcount.RefcountReader;
import dev.qcow2.refcount.RefcountUnreadableException;
import dev.qcow2.refcount.Reftable;
import dev.qcow2.storage.Storage;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.walk.MetadataWalk;

import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;

/**
 * A read-only consistency check as strict as {@code qemu-img check} (qcow2-format.md §3), with
 * the same counters. It follows QEMU's {@code qcow2_co_check_locked}: read the snapshot table,
 * count every reference into an in-memory refcount table (header, active L1 and its L2 tables
 * and clusters, snapshot L1s, snapshot table, reftable, LUKS header area, bitmaps, refblocks),
 * compare it with the on-disk refcounts, then check OFLAG_COPIED. It never writes.
 *
 * <p>Memory: one counter per host cluster (2 bytes up to 16-bit refcounts), one L2 table
 * buffer, and a small refblock cache; each L2 table is read once.
 */
public final class ImageChecker {
    /** Findings kept in the report; further ones are only counted (and still passed to the listener). */
    public static final int MAX_KEPT_FINDINGS = 10_000;

    private ImageChecker() { }

    public static CheckReport check(Qcow2Image image) throws IOException {
        return check(image, f -> { });
    }

    /**
     * Checks {@code image}, passing each finding to {@code listener} in qemu-img's order.
     *
     * @throws Qcow2Exception where qemu-img would refuse to open the image for checking
     */
    public static CheckReport check(Qcow2Image image, Consumer<Finding> listener) throws IOException {
        return check(image, false, listener);
    }

    /**
     * {@link #check(Qcow2Image, Consumer)}; {@code withoutKey}: an encrypted image opened without
     * its key is checked anyway (metadata only, which is all a check reads), where qemu-img refuses.
     */
    public static CheckReport check(Qcow2Image image, boolean withoutKey, Consumer<Finding> listener) throws IOException {
        if (!withoutKey) refuseWithoutKey(image);
        return scan(image, listener).report();
    }

    /**
     * qemu-img check opens an encrypted image only with its key: without one it fails with exit
     * 1, "Parameter 'encrypt.key-secret' is required for cipher", though the check itself reads
     * metadata only. ({@link #scan}, the metadata walk that inspection views use, does not ask.)
     */
    private static void refuseWithoutKey(Qcow2Image image) throws Qcow2Exception {
        if (image.encryption() instanceof Encryption.Locked locked) throw locked.refusal(image.describe());
    }

    /**
     * A check's report plus the references it counted (the IMRT; null if the check stopped
     * before counting) and the snapshot table as read ({@code snapshotsDiscarded} entries dropped
     * off its end and {@code snapshotsToRewrite} entries to rewrite, both only when fixing).
     */
    public record Scan(CheckReport report, ReferenceCounts references, List<SnapshotEntry> snapshots,
                       long snapshotsDiscarded, long snapshotsToRewrite) { }

    /** {@link #check}, also returning the in-memory refcount table, for repair. */
    public static Scan scan(Qcow2Image image, Consumer<Finding> listener) throws IOException {
        return scan(image, listener, false);
    }

    /**
     * {@link #scan(Qcow2Image, Consumer)} as the first pass of {@code check -r all} sees it
     * ({@code fixErrors}): a broken snapshot table is read as QEMU's repair reads it (see
     * {@link SnapshotTableCheck}) instead of ending the check. Still writes nothing.
     */
    public static Scan scan(Qcow2Image image, Consumer<Finding> listener, boolean fixErrors) throws IOException {
        refuseLikeQemuOpen(image);
        CheckState state = new CheckState(listener);
        SnapshotTableCheck.Table snapshots = null;
        try {
            snapshots = SnapshotTableCheck.read(image.storage(), image.header(), state, fixErrors);
            checkRefcounts(image, snapshots, state);
        } catch (CheckState.Aborted a) {
            return scanResult(state, a.reason, snapshots);
        } catch (IOException | IllegalArgumentException e) {
            state.report(Finding.Type.IO_ERROR, "image", -1, -1, "ERROR: I/O error: " + e.getMessage());
            return scanResult(state, "Input/output error", snapshots);
        }
        return scanResult(state, null, snapshots);
    }

    private static Scan scanResult(CheckState state, String failure, SnapshotTableCheck.Table t) {
        return new Scan(state.toReport(failure), state.references, t == null ? List.of() : t.entries(),
                t == null ? 0 : t.discarded(), t == null ? 0 : t.needsRewrite());
    }

    /**
     * What QEMU's open does beyond the header: it loads the persistent bitmaps (the directory,
     * and the table of every bitmap not marked in-use) and refuses the image if they are broken.
     */
    private static void refuseLikeQemuOpen(Qcow2Image image) throws IOException {
        for (BitmapDirectoryEntry e : image.bitmaps()) {
            if (!e.inUse()) image.bitmap(e);
        }
    }

    private static void checkRefcounts(Qcow2Image image, SnapshotTableCheck.Table snapshots, CheckState state)
            throws IOException, CheckState.Aborted {
        Storage storage = image.storage();
        Qcow2Header h = image.header();
        ClusterGeometry geo = h.geometry();
        int cs = geo.clusterSize();
        long fileLength = storage.size();
        long nbClusters = geo.clustersCovering(fileLength);
        if (nbClusters > Integer.MAX_VALUE) {
            state.checkErrors++;
            throw new CheckState.Aborted("File too large");
        }
        // QEMU counts whole 512-byte sectors of the virtual size (bs->total_sectors)
        state.totalClusters = geo.clustersCovering(h.size() / 512 * 512);

        Reftable reftable = Reftable.read(storage, h, Reftable.Policy.QEMU);
        RefcountReader onDisk = new RefcountReader(storage, reftable, RefcountReader.Cache.SCAN);
        ReferenceCounts imrt = new ReferenceCounts(geo.refcountOrder(), nbClusters);
        state.references = imrt;
        boolean dataFile = h.hasExternalDataFile();
        ReferenceCounter counter = new ReferenceCounter(geo, fileLength, dataFile, imrt, onDisk, state);
        MetadataWalk walk = new MetadataWalk(storage, h);

        walk.header(counter);
        walk.activeTree(counter);
        if (dataFile && !snapshots.snapshots().isEmpty()) {
            state.report(Finding.Type.SNAPSHOTS_WITH_DATA_FILE, "snapshot table", snapshots.offset(), -1,
                    "ERROR " + snapshots.snapshots().size() + " snapshots in image with data file");
        }
        walk.snapshotTrees(snapshots.entries(), counter);
        walk.snapshotTable(snapshots.offset(), snapshots.size(), counter);
        walk.refcountTable(reftable.size(), counter);
        walk.cryptoHeader(counter);
        walk.bitmaps(counter);
        walk.refcountBlocks(reftable, counter);
        long highest = compare(onDisk, imrt, state);
        counter.copiedFindings.reportTo(state);
        state.imageEndOffset = (highest + 1) * cs;
    }

    /** compare_refcounts: on-disk refcount vs. references; returns the highest cluster in use. */
    private static long compare(RefcountReader onDisk, ReferenceCounts imrt, CheckState state) throws IOException {
        long highest = 0;
        for (long i = 0; i < imrt.size(); i++) {
            long refcount;
            try {
                refcount = onDisk.get(i);
            } catch (RefcountUnreadableException u) {
                // qcow2_get_refcount's -EIO, printed as qemu-img does: strerror(EIO)
                state.report(Finding.Type.REFCOUNT_UNREADABLE, "refcount block", -1, i,
                        "Can't get refcount for cluster " + i + ": Input/output error");
                continue;
            }
            long reference = imrt.get(i);
            if (refcount != 0 || reference != 0) highest = i;
            if (refcount == reference) continue;
            String counts = " refcount=" + Long.toUnsignedString(refcount) + " reference=" + Long.toUnsignedString(reference);
            if (Long.compareUnsigned(refcount, reference) < 0) {
                state.report(Finding.Type.REFCOUNT_TOO_LOW, "cluster", -1, i, "ERROR cluster " + i + counts);
            } else {
                state.report(Finding.Type.LEAKED_CLUSTER, "cluster", -1, i, "Leaked cluster " + i + counts);
            }
        }
        return highest;
    }
}
