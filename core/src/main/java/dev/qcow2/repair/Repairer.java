package dev.qcow2.repair;

import dev.qcow2.check.CheckReport;
import dev.qcow2.check.Finding;
import dev.qcow2.check.ImageChecker;
import dev.qcow2.check.ReferenceCounts;
import dev.qcow2.format.FeatureBits;
import dev.qcow2.format.HeaderField;
import dev.qcow2.format.L2Entry;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.crypto.SecretLookup;
import dev.qcow2.image.Encryption;
import dev.qcow2.image.FollowPolicy;
import dev.qcow2.image.OpenOptions;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.refcount.RefcountUnreadableException;
import dev.qcow2.snapshot.SnapshotTableWriter;
import dev.qcow2.storage.WritableFileStorage;
import dev.qcow2.storage.WritableStorage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

import static dev.qcow2.check.Finding.Type.*;

/**
 * {@code qemu-img check -r leaks|all} (qcow2-format.md §2.3, §3), following QEMU's
 * {@code qcow2_check_refcounts} and its counters exactly, with every write going through an
 * {@link UndoJournal} first. The read-only {@link ImageChecker} supplies the in-memory refcounts
 * and findings; this class applies the fixes QEMU applies, in QEMU's order:
 * <ol>
 *   <li>(all) fixes QEMU makes while counting: misaligned preallocated zero clusters become
 *       ZERO_PLAIN, a refblock past the end of the file grows the file;</li>
 *   <li>compare refcounts with references; if a refcount is 0 but referenced, or a refblock is
 *       bad, rebuild the refcount structure (all) or fail (leaks: "need to rebuild");</li>
 *   <li>otherwise lower leaked refcounts (leaks, all) and raise too-low ones (all);</li>
 *   <li>fix OFLAG_COPIED (all; leaks only when nothing else is left);</li>
 *   <li>clear the dirty and corrupt bits when no corruption or error remains.</li>
 * </ol>
 * Then a second, read-only check gives the report. Repair never runs unless called.
 */
public final class Repairer {
    private static final Set<Finding.Type> COMPARE_OR_COPIED = Set.of(REFCOUNT_TOO_LOW, LEAKED_CLUSTER,
            REFCOUNT_UNREADABLE, L1_OFLAG_COPIED, L2_OFLAG_COPIED);
    /** Found while reading the snapshot table; printed once, first, as qcow2_check_read_snapshot_table does. */
    private static final Set<Finding.Type> SNAPSHOT_READ = Set.of(SNAPSHOTS_DISCARDED, SNAPSHOT_EXTRA_DATA_DROPPED,
            SNAPSHOT_ENTRY_INCOMPLETE, SNAPSHOT_TABLE_INVALID, SNAPSHOT_TABLE_UNREADABLE);
    private static final Set<Finding.Type> NEEDS_REBUILD = Set.of(REFTABLE_RESERVED_BITS, REFBLOCK_UNALIGNED,
            REFBLOCK_SHARED);

    private final Path path;
    private final JournaledStorage storage;
    private final RepairMode mode;
    private final Consumer<String> messages;
    private long leaksFixed;
    private long corruptionsFixed;

    /** How the image is opened for each check pass (with the secret of an encrypted image). */
    private final OpenOptions open;

    private Repairer(Path path, JournaledStorage storage, RepairMode mode, Consumer<String> messages, SecretLookup secrets,
                     FollowPolicy follow) {
        this.open = OpenOptions.forChecking().withSecrets(secrets).withFollow(follow);
        this.path = path;
        this.storage = storage;
        this.mode = mode;
        this.messages = messages;
    }

    /** Repairs {@code image} in place, holding the exclusive write lock; detail lines go to {@code messages}. */
    public static RepairResult repair(Path image, RepairMode mode, Consumer<String> messages) throws IOException {
        return repair(image, mode, messages, SecretLookup.none());
    }

    /**
     * {@link #repair(Path, RepairMode, Consumer)} of an image that may be encrypted: as qemu-img
     * check -r, it needs the key ({@code secrets}, depth 0) though it repairs metadata only.
     */
    public static RepairResult repair(Path image, RepairMode mode, Consumer<String> messages, SecretLookup secrets) throws IOException {
        return repair(image, mode, messages, secrets, FollowPolicy.imageTree());
    }

    /** {@link #repair(Path, RepairMode, Consumer, SecretLookup)}; the check passes follow the names inside the image as {@code follow} allows. */
    public static RepairResult repair(Path image, RepairMode mode, Consumer<String> messages, SecretLookup secrets,
                                      FollowPolicy follow) throws IOException {
        try (WritableFileStorage file = WritableFileStorage.open(image)) {
            return repair(image, file, mode, messages, secrets, follow);
        }
    }

    /** Repairs through {@code target}, whose writes must land in the file {@code image} (scans re-read it). */
    public static RepairResult repair(Path image, WritableStorage target, RepairMode mode, Consumer<String> messages)
            throws IOException {
        return repair(image, target, mode, messages, SecretLookup.none());
    }

    /** {@link #repair(Path, WritableStorage, RepairMode, Consumer)} with the secrets of an encrypted image. */
    public static RepairResult repair(Path image, WritableStorage target, RepairMode mode, Consumer<String> messages,
                                      SecretLookup secrets) throws IOException {
        return repair(image, target, mode, messages, secrets, FollowPolicy.imageTree());
    }

    /** {@link #repair(Path, WritableStorage, RepairMode, Consumer, SecretLookup)} with a {@link FollowPolicy}. */
    public static RepairResult repair(Path image, WritableStorage target, RepairMode mode, Consumer<String> messages,
                                      SecretLookup secrets, FollowPolicy follow) throws IOException {
        requireKey(image, target, secrets);
        try (JournaledStorage journaled = new JournaledStorage(target, UndoJournal.pathFor(image))) {
            Repairer r = new Repairer(image, journaled, mode, messages, secrets, follow);
            Optional<String> failure = r.fixPass();
            journaled.commit();
            Optional<Path> journal = Optional.ofNullable(journaled.journal());
            if (failure.isPresent()) return new RepairResult(failure, r.leaksFixed, r.corruptionsFixed, journal, null);
            // qemu-img checks a second time, printing its findings, only when something was fixed;
            // otherwise the first pass's report stands (this pass then gives the same one, silently).
            boolean fixed = r.leaksFixed != 0 || r.corruptionsFixed != 0;
            CheckReport after;
            try (Qcow2Image img = Qcow2Image.open(image, r.open)) {
                after = ImageChecker.check(img, f -> { if (fixed) messages.accept(f.message()); });
            }
            return new RepairResult(Optional.empty(), r.leaksFixed, r.corruptionsFixed, journal, after);
        }
    }

    /** A contradictory header is refused and the key of an encrypted image is checked before the journal is made or anything written. */
    private static void requireKey(Path image, WritableStorage target, SecretLookup secrets) throws IOException {
        Qcow2Header h;
        try {
            h = Qcow2Header.read(target, true);
        } catch (IOException | RuntimeException e) {
            return;     // the check pass reports a header it cannot read
        }
        // qcow2_do_open refuses a header that contradicts itself before anything is written
        dev.qcow2.format.HeaderContradiction.refuse(target.describe(), h, false);
        try (Encryption e = Encryption.open(target.describe(), target, h, secrets, new SecretLookup.Layer(image, 0, Optional.empty()))) {
            if (e instanceof Encryption.Locked locked) throw locked.refusal(target.describe());
        }
    }

    /** One check pass as the repair needs it: report, references, header and per-type counts. */
    private record Pass(CheckReport report, ReferenceCounts imrt, Qcow2Header header, Map<Finding.Type, Long> counts,
                        List<Finding> findings, ImageChecker.Scan scan) {
        long count(Finding.Type t) { return counts.getOrDefault(t, 0L); }

        /** Corruptions the refcount pass leaves (snapshot-table ones counted apart when they get fixed). */
        long calcCorruptions() {
            return report.corruptions() - count(REFCOUNT_TOO_LOW) - count(L1_OFLAG_COPIED) - count(L2_OFLAG_COPIED)
                    - scan.snapshotsDiscarded() - scan.snapshotsToRewrite();
        }

        long calcLeaks() { return report.leaks() - count(LEAKED_CLUSTER); }

        long calcErrors() { return report.checkErrors() - count(REFCOUNT_UNREADABLE); }
    }

    private Pass scan() throws IOException {
        Map<Finding.Type, Long> counts = new EnumMap<>(Finding.Type.class);
        List<Finding> findings = new ArrayList<>();
        try (Qcow2Image img = Qcow2Image.open(path, open)) {
            ImageChecker.Scan s = ImageChecker.scan(img, f -> {
                counts.merge(f.type(), 1L, Long::sum);
                if (findings.size() < ImageChecker.MAX_KEPT_FINDINGS) findings.add(f);
            }, mode.fixErrors());
            return new Pass(s.report(), s.references(), img.header(), counts, findings, s);
        }
    }

    /** The repairing pass (QEMU's first bdrv_check with fix); returns the failure reason, if any. */
    private Optional<String> fixPass() throws IOException {
        Pass pass = scan();
        for (Finding f : pass.findings()) if (SNAPSHOT_READ.contains(f.type())) messages.accept(f.message());
        if (!pass.report().completed()) return failed(pass);
        // Only a repairing scan discards or rewrites entries; it may do both.
        long snapshotFixes = pass.scan().snapshotsToRewrite();
        if (pass.scan().snapshotsDiscarded() > 0 && (pass = dropOverhangingSnapshots(pass)) == null) {
            return Optional.of("Input/output error");
        }
        if (!pass.report().completed()) return failed(pass);
        if (mode.fixErrors() && fixWhileCounting(pass)) {
            pass = scan();
            if (!pass.report().completed()) return failed(pass);
        }
        for (Finding f : pass.findings()) {
            if (!COMPARE_OR_COPIED.contains(f.type()) && !SNAPSHOT_READ.contains(f.type())) messages.accept(f.message());
        }
        long corruptions = pass.calcCorruptions(), leaks = pass.calcLeaks(), errors = pass.calcErrors();
        final Pass counted = pass;
        boolean rebuild = NEEDS_REBUILD.stream().anyMatch(t -> counted.count(t) > 0)
                || (mode.fixErrors() && pass.count(REFBLOCK_OUTSIDE_IMAGE) > 0);
        RefcountStore refcounts = new RefcountStore(storage, pass.header());
        Compare plain = compare(refcounts, pass.imrt(), false, false, true);
        rebuild |= plain.rebuild;
        Qcow2Header header = pass.header();
        if (rebuild && mode.fixErrors()) {
            long oldCorruptions = corruptions + plain.corruptions, oldLeaks = leaks + plain.leaks;
            messages.accept("Rebuilding refcount structure");
            RefcountRebuild.run(storage, header.geometry(), pass.imrt());
            Pass rebuilt = scan();
            if (!rebuilt.report().completed()) return rebuilt.report().failure();
            header = rebuilt.header();
            corruptions = rebuilt.calcCorruptions();
            errors += plain.errors + rebuilt.calcErrors();
            refcounts = new RefcountStore(storage, header);
            // the old structure is leaked now: free it; what cannot be freed was leaked by the rebuild
            Compare cleanup = compare(refcounts, rebuilt.imrt(), true, false, false);
            if (cleanup.rebuild) messages.accept("ERROR rebuilt refcount structure is still broken");
            if (corruptions < oldCorruptions) corruptionsFixed += oldCorruptions - corruptions;
            leaksFixed += oldLeaks;
            leaks = cleanup.leaks;
        } else {
            if (rebuild) {
                messages.accept("ERROR need to rebuild refcount structures");
                return Optional.of("Input/output error");
            }
            if (leaks + plain.leaks != 0 || corruptions + plain.corruptions != 0) {
                Compare fixing = compare(refcounts, pass.imrt(), true, mode.fixErrors(), true);
                corruptions += fixing.corruptions;
                leaks += fixing.leaks;
                errors += fixing.errors;
            } else {
                errors += plain.errors;
            }
        }
        boolean repairCopied = mode.fixErrors() || (errors == 0 && corruptions == 0 && leaks == 0);
        CopiedFlags.Result copied = CopiedFlags.fix(storage, header, refcounts, repairCopied, messages);
        corruptionsFixed += copied.fixed();
        corruptions += copied.found() - copied.fixed();
        if (snapshotFixes > 0) {
            // qcow2_check_fix_snapshot_table: with the refcounts right, a new table can be allocated
            try {
                SnapshotTableWriter.rewrite(storage, header, pass.scan().snapshots());
            } catch (IOException e) {
                messages.accept("ERROR failed to update snapshot table: " + e.getMessage());
                return Optional.of("Input/output error");
            }
            corruptionsFixed += snapshotFixes;
        }
        if (errors == 0 && corruptions == 0) markCleanAndConsistent(header);
        storage.flush();
        return Optional.empty();
    }

    /** The findings of a pass that could not complete, then its failure reason. */
    private Optional<String> failed(Pass pass) {
        for (Finding f : pass.findings()) if (!SNAPSHOT_READ.contains(f.type())) messages.accept(f.message());
        return pass.report().failure();
    }

    /**
     * qcow2_check_read_snapshot_table's fix for too many entries or a table over 64 MiB: the
     * header's nb_snapshots is lowered to the entries kept, before any refcount is touched (the
     * dropped entries' clusters are then merely leaked). Returns the scan of the shortened
     * table, or null when the header could not be written.
     */
    private Pass dropOverhangingSnapshots(Pass pass) throws IOException {
        try {
            HeaderField.Patch count = HeaderField.patch(HeaderField.NB_SNAPSHOTS.is(pass.scan().snapshots().size()));
            storage.write(count.offset(), count.buffer());
            storage.flush();
        } catch (IOException e) {
            messages.accept("ERROR failed to update the snapshot count in the image header: " + e.getMessage());
            return null;
        }
        corruptionsFixed += pass.scan().snapshotsDiscarded();
        return scan();
    }

    /**
     * What QEMU repairs while it counts references (check_refcounts_l2, check_refblocks) under
     * FIX_ERRORS. Returns whether anything was changed.
     */
    private boolean fixWhileCounting(Pass pass) throws IOException {
        var geo = pass.header().geometry();
        Set<Long> zeroEntries = new LinkedHashSet<>();
        long grownTo = -1;
        for (Finding f : pass.findings()) {
            if (f.type() == PREALLOCATED_ZERO_UNALIGNED && zeroEntries.add(f.hostOffset())) {
                messages.accept(f.message().replaceFirst("^ERROR", "Repairing"));
                // Unallocated and reading as zeros: with extended L2 every subcluster that was allocated or zero.
                L2Entry fixed = L2Entry.zero(0, false);
                if (geo.extendedL2()) {
                    long bitmap = ByteBuffer.wrap(storage.read(f.hostOffset() + 8, 8)).getLong();
                    fixed = L2Entry.unallocated(L2Entry.bitmap(0, L2Entry.allocatedBits(bitmap) | L2Entry.zeroBits(bitmap)), geo);
                }
                storage.write(f.hostOffset(), L2Entry.slotBytes(fixed, geo));
                corruptionsFixed++;
            } else if (f.type() == REFBLOCK_OUTSIDE_IMAGE && f.hostOffset() <= Long.MAX_VALUE - geo.clusterSize()) {
                messages.accept(f.message().replaceFirst("^ERROR", "Repairing"));
                grownTo = Math.max(grownTo, f.hostOffset() + geo.clusterSize());
                corruptionsFixed++;
            }
        }
        if (grownTo > storage.size()) storage.setLength(grownTo);
        if (!zeroEntries.isEmpty()) storage.flush();
        return !zeroEntries.isEmpty() || grownTo >= 0;
    }

    private record Compare(long corruptions, long leaks, long errors, boolean rebuild) { }

    /**
     * compare_refcounts: on-disk refcount vs. reference for every cluster, fixing as allowed;
     * {@code countFixed} false for the clean-up after a rebuild, whose counters QEMU discards.
     */
    private Compare compare(RefcountStore refcounts, ReferenceCounts imrt, boolean fixLeaks, boolean fixErrors,
                            boolean countFixed) throws IOException {
        long corruptions = 0, leaks = 0, errors = 0;
        boolean rebuild = false;
        for (long i = 0; i < imrt.size(); i++) {
            long refcount;
            try {
                refcount = refcounts.get(i);
            } catch (RefcountUnreadableException u) {
                messages.accept("Can't get refcount for cluster " + i + ": Input/output error");
                errors++;
                continue;
            }
            long reference = imrt.get(i);
            if (refcount == reference) continue;
            boolean fix = false;
            boolean tooLow = Long.compareUnsigned(refcount, reference) < 0;
            if (refcount == 0) rebuild = true;
            else if (!tooLow && fixLeaks) fix = true;
            else if (tooLow && fixErrors) fix = true;
            messages.accept((fix ? "Repairing" : tooLow ? "ERROR" : "Leaked") + " cluster " + i + " refcount="
                    + Long.toUnsignedString(refcount) + " reference=" + Long.toUnsignedString(reference));
            if (fix) {
                try {
                    refcounts.set(i, reference);
                    if (reference == 0) storage.discardWhenFlushed(i << refcounts.clusterBits(), 1L << refcounts.clusterBits());
                    if (countFixed && tooLow) corruptionsFixed++;
                    if (countFixed && !tooLow) leaksFixed++;
                    continue;
                } catch (RefcountUnreadableException u) {
                    // counted below, as QEMU does when update_refcount fails
                }
            }
            if (tooLow) corruptions++; else leaks++;
        }
        if (fixLeaks || fixErrors) storage.flush();
        return new Compare(corruptions, leaks, errors, rebuild);
    }

    /** qcow2_mark_clean + qcow2_mark_consistent: clear the dirty and corrupt bits (v3 only). */
    private void markCleanAndConsistent(Qcow2Header h) throws IOException {
        if (h.version() < 3) return;
        long bits = FeatureBits.INCOMPAT_DIRTY | FeatureBits.INCOMPAT_CORRUPT;
        HeaderField field = HeaderField.INCOMPATIBLE_FEATURES;
        long incompatible = field.decode(storage.read(field.offset(), field.width()));
        if ((incompatible & bits) == 0) return;
        storage.flush();
        HeaderField.Patch cleared = HeaderField.patch(field.is(incompatible & ~bits));
        storage.write(cleared.offset(), cleared.buffer());
        storage.flush();
    }
}
