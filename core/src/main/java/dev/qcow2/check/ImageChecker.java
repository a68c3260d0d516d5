package dev.qcow2.check;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.format.BitmapDirectoryEntry;
import dev.qcow2.format.HeaderExtension;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.refcount.RefcountReader;
import dev.qcow2.refcount.RefcountUnreadableException;
import dev.qcow2.refcount.Reftable;
import dev.qcow2.refcount.ReftableDamage;
import dev.qcow2.storage.Storage;
import dev.qcow2.units.ClusterGeometry;

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
        return scan(image, listener).report();
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
        TableWalker walker = new TableWalker(storage, geo, fileLength, dataFile, imrt, onDisk, state);

        walker.inc(0, cs, "header");
        walker.walkL1(h.l1TableOffset(), h.l1Size(), true, "active L1 table");
        walkSnapshots(snapshots, dataFile, cs, walker, state);
        walker.inc(snapshots.offset(), snapshots.size(), "snapshot table");
        walker.inc(h.refcountTableOffset(), (long) reftable.size() * 8, "refcount table");
        HeaderExtension.CryptoHeader crypto = h.extension(HeaderExtension.CryptoHeader.class).orElse(null);
        if (crypto != null && crypto.headerLength() != 0) {
            walker.inc(crypto.headerOffset(), crypto.headerLength(), "LUKS header");
        }
        BitmapRefcounts.count(image, walker, state);
        checkRefblocks(reftable, geo, imrt, walker, state);
        long highest = compare(onDisk, imrt, state);
        walker.copiedFindings.reportTo(state);
        state.imageEndOffset = (highest + 1) * cs;
    }

    private static void walkSnapshots(SnapshotTableCheck.Table table, boolean dataFile, int cs, TableWalker walker,
                                      CheckState state) throws IOException, CheckState.Aborted {
        if (dataFile && !table.snapshots().isEmpty()) {
            state.report(Finding.Type.SNAPSHOTS_WITH_DATA_FILE, "snapshot table", table.offset(), -1,
                    "ERROR " + table.snapshots().size() + " snapshots in image with data file");
        }
        for (SnapshotTableCheck.Snapshot s : table.snapshots()) {
            if ((s.l1Offset() & (cs - 1)) != 0) {
                state.report(Finding.Type.SNAPSHOT_L1_UNALIGNED, "snapshot table", s.entryOffset(), -1, String.format(
                        "ERROR snapshot %s (%s) l1_offset=%#x: L1 table is not cluster aligned; snapshot table entry corrupted",
                        s.id(), s.name(), s.l1Offset()));
                continue;
            }
            if (s.l1Size() > Qcow2Header.MAX_L1_BYTES / 8) {
                state.report(Finding.Type.SNAPSHOT_L1_TOO_LARGE, "snapshot table", s.entryOffset(), -1, String.format(
                        "ERROR snapshot %s (%s) l1_size=%#x: L1 table is too large; snapshot table entry corrupted",
                        s.id(), s.name(), s.l1Size()));
                continue;
            }
            walker.walkL1(s.l1Offset(), s.l1Size(), false, "snapshot L1 table");
        }
    }

    /** check_refblocks: each reftable entry sane, and each refblock referenced exactly once. */
    private static void checkRefblocks(Reftable reftable, ClusterGeometry geo, ReferenceCounts imrt, TableWalker walker,
                                       CheckState state) throws CheckState.Aborted {
        for (int i = 0; i < reftable.size(); i++) {
            long offset = reftable.entry(i).refblockOffset();
            long cluster = offset >>> geo.clusterBits();
            ReftableDamage damage = reftable.damage(i);
            if (damage != null) {
                // Reftable.damage tests the rules in check_refblocks' order; the file is imrt.size() clusters
                switch (damage.reason()) {
                    case RESERVED_BITS -> state.report(Finding.Type.REFTABLE_RESERVED_BITS, "refcount table", offset, -1,
                            "ERROR refcount table entry " + i + " has reserved bits set");
                    case UNALIGNED -> state.report(Finding.Type.REFBLOCK_UNALIGNED, "refcount block", offset, -1,
                            "ERROR refcount block " + i + " is not cluster aligned; refcount table entry corrupted");
                    case PAST_END_OF_FILE -> state.report(Finding.Type.REFBLOCK_OUTSIDE_IMAGE, "refcount block", offset, cluster,
                            "ERROR refcount block " + i + " is outside image");
                }
                continue;
            }
            if (offset != 0) {
                walker.inc(offset, geo.clusterSize(), "refcount block");
                long refs = imrt.get(cluster);
                if (refs != 1) {
                    state.report(Finding.Type.REFBLOCK_SHARED, "refcount block", offset, cluster,
                            "ERROR refcount block " + i + " refcount=" + Long.toUnsignedString(refs));
                }
            }
        }
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
