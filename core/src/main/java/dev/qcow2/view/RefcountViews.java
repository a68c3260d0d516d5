package dev.qcow2.view;

import dev.qcow2.check.ImageChecker;
import dev.qcow2.check.ReferenceCounts;
import dev.qcow2.format.ReftableEntry;
import dev.qcow2.image.Qcow2Image;
import dev.qcow2.refcount.Reftable;
import dev.qcow2.refcount.ReftableDamage;

import java.io.IOException;
import java.util.List;

/**
 * The refcount structures (qcow2.rst "Host cluster management"): what {@code qcow2 dump
 * refcount-table} / {@code dump refcounts} and the DSL's {@code refcounts} show.
 *
 * <ul>
 *   <li>{@link #reftable}: every nonzero refcount table entry, with the first rule it breaks
 *       (QEMU's check_refblocks order: reserved bits, alignment, inside the file);</li>
 *   <li>{@link #refcounts}: every host cluster with a nonzero refcount or a reference: the
 *       refcount recorded in the image ({@link RecordedRefcounts}) beside the references the
 *       metadata walk counts (the in-memory refcount table of qemu-img check), and a status.</li>
 * </ul>
 */
public final class RefcountViews {
    public static final String REFTABLE_TYPE = "reftable-entry";
    public static final String REFCOUNT_TYPE = "refcount";

    private RefcountViews() { }

    public static TableView reftable(Qcow2Image img) throws IOException {
        Reftable t = Reftable.read(img.storage(), img.header(), Reftable.Policy.QEMU);
        RecordedRefcounts refs = RecordedRefcounts.open(img);
        long perBlock = img.geometry().refblockEntries();
        TableView.Builder out = TableView.of(REFTABLE_TYPE, "refcount table of " + Subject.of(img), List.of(
                Column.plain("reftable_index"), Column.plain("first_cluster"), Column.hex("refblock_offset"),
                Column.plain("refcount"), Column.hex("reserved_bits"), Column.plain("status"), Column.hex("raw")));
        for (int i = 0; i < t.size(); i++) {
            ReftableEntry e = t.entry(i);
            if (e.raw() == 0) continue;
            ReftableDamage damage = t.damage(i);
            String status = damage == null ? "ok" : switch (damage.reason()) {
                case RESERVED_BITS -> "reserved-bits";
                case UNALIGNED -> "unaligned";
                case PAST_END_OF_FILE -> "past-end-of-file";
            };
            out.add((long) i, i * perBlock, e.refblockOffset(), refs.at(e.refblockOffset()),
                    e.reservedBits() == 0 ? null : e.reservedBits(), status, e.raw());
        }
        return out.build();
    }

    /**
     * Host clusters with a refcount or a reference, up to the end of the file or the last
     * referenced cluster. Status: {@code ok}; {@code leaked} (a refcount, no reference);
     * {@code too high} / {@code too low} (refcount above / below the references);
     * {@code unreadable} (the refcount block cannot be read: its reftable entry is unaligned).
     * Open the image as qemu-img check does ({@code OpenOptions.forChecking()}).
     */
    public static TableView refcounts(Qcow2Image img) throws IOException {
        ReferenceCounts refs = ImageChecker.scan(img, f -> { }).references();
        RecordedRefcounts recorded = RecordedRefcounts.open(img);
        long cs = img.header().clusterSize();
        long clusters = Math.max(img.geometry().clustersCovering(img.storage().size()), refs == null ? 0 : refs.size());
        TableView.Builder t = TableView.of(REFCOUNT_TYPE, "refcounts of " + Subject.of(img), List.of(Column.plain("cluster"),
                Column.hex("host_offset"), Column.plain("refcount"), Column.plain("references"), Column.plain("status")));
        for (long c = 0; c < clusters; c++) {
            Long rc = recorded.of(c);
            long ref = refs == null ? 0 : refs.get(c);
            if (rc != null && rc == 0 && ref == 0) continue;
            t.add(c, c * cs, rc, ref, status(rc, ref));
        }
        return t.build();
    }

    static String status(Long refcount, long references) {
        if (refcount == null) return "unreadable";
        if (refcount == references) return "ok";
        if (refcount > references) return references == 0 ? "leaked" : "too high";
        return "too low";
    }
}
