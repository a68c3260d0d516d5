package dev.qcow2.refcount;

import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.ReftableEntry;
import dev.qcow2.storage.Storage;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.Set;

/**
 * The refcount table (qcow2.rst "Host cluster management"), its entries validated once, when
 * read or set: each entry is empty, names a usable refcount block, or is damaged
 * ({@link ReftableDamage}). Which damage makes the refcounts under an entry unreadable is the
 * {@link Policy}; an entry past the end of the table is empty (QEMU: refcount 0).
 *
 * <p>Invariant: {@code unreadable[i]} is non-null exactly when entry i is damaged in a way the
 * policy refuses; {@code unreadable} itself is null while no entry is (the common case, so
 * {@link #refblockOffset} costs one array read).
 */
public final class Reftable {
    /** Which {@link ReftableDamage.Reason}s make the refcounts under an entry unreadable. */
    public enum Policy {
        /**
         * QEMU's qcow2_get_refcount: reserved bits are masked off, a refcount block past the end
         * of the file reads as zeros, an unaligned one is an error (-EIO). Used by check, repair
         * and the inspection tools, whose output is compared with qemu-img.
         */
        QEMU(EnumSet.of(ReftableDamage.Reason.UNALIGNED)),
        /**
         * The writer: it would also write into a refcount block past the end of the file, so that
         * is refused too instead of silently extending the file with a block of zeros.
         */
        WRITER(EnumSet.of(ReftableDamage.Reason.UNALIGNED, ReftableDamage.Reason.PAST_END_OF_FILE));

        private final Set<ReftableDamage.Reason> unreadable;

        Policy(Set<ReftableDamage.Reason> unreadable) { this.unreadable = unreadable; }

        public boolean unreadable(ReftableDamage.Reason reason) { return unreadable.contains(reason); }
    }

    private final String resource;
    private final ClusterGeometry geo;
    private final long offset;
    private final long[] entries;
    private long fileClusters;
    private final Policy policy;
    private RefcountUnreadableException[] unreadable;

    /**
     * @param fileLength length of the image file when the table was read: a refcount block at or
     *                   past {@code clustersCovering(fileLength)} is {@link ReftableDamage.Reason#PAST_END_OF_FILE}
     */
    public Reftable(String resource, ClusterGeometry geo, long offset, long[] entries, long fileLength, Policy policy) {
        this.resource = resource;
        this.geo = geo;
        this.offset = offset;
        this.entries = entries;
        this.fileClusters = geo.clustersCovering(fileLength);
        this.policy = policy;
        for (int i = 0; i < entries.length; i++) validate(i);
    }

    /** The table the header names ({@code refcount_table_offset}, {@code refcount_table_clusters}; sizes checked by the header). */
    public static Reftable read(Storage storage, Qcow2Header h, Policy policy) throws IOException {
        return read(storage, h.geometry(), h.refcountTableOffset(), h.refcountTableClusters(), policy);
    }

    public static Reftable read(Storage storage, ClusterGeometry geo, long offset, long clusters, Policy policy)
            throws IOException {
        return read(storage, geo, offset, clusters, storage.size(), policy);
    }

    /** As {@link #read(Storage, ClusterGeometry, long, long, Policy)}, for a file whose length is {@code fileLength} (a writer's view with queued writes). */
    public static Reftable read(Storage storage, ClusterGeometry geo, long offset, long clusters, long fileLength,
                                Policy policy) throws IOException {
        long entries = (clusters << geo.clusterBits()) / 8;
        if (clusters < 0 || entries * 8 > Qcow2Header.MAX_REFTABLE_BYTES) {
            throw new dev.qcow2.CorruptImageException(storage.describe(), "refcount table", offset, clusters,
                    "refcount table of " + clusters + " clusters exceeds " + Qcow2Header.MAX_REFTABLE_BYTES + " bytes");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) entries * 8);
        storage.readFully(offset, buf);
        long[] out = new long[(int) entries];
        buf.flip().asLongBuffer().get(out);
        return new Reftable(storage.describe(), geo, offset, out, fileLength, policy);
    }

    public String resource() { return resource; }

    public ClusterGeometry geometry() { return geo; }

    public Policy policy() { return policy; }

    /** File offset of the table. */
    public long offset() { return offset; }

    public int size() { return entries.length; }

    /** Clusters the table occupies. */
    public int clusters() { return (int) ((long) entries.length * 8 >>> geo.clusterBits()); }

    public long raw(int index) { return entries[index]; }

    public ReftableEntry entry(int index) { return new ReftableEntry(entries[index]); }

    /** File offset of entry {@code index}: where its damage is. */
    public long entryFileOffset(int index) { return offset + 8L * index; }

    /** Clusters describable by the table: those with index below this. */
    public long coveredClusters() { return entries.length * geo.refblockEntries(); }

    /** The reftable index describing host cluster {@code cluster} (may be past the table). */
    public long indexOf(long cluster) { return cluster / geo.refblockEntries(); }

    /**
     * The first rule entry {@code index} breaks, in check_refblocks' order (reserved bits,
     * alignment, inside the file), or null when it is empty or names a sound refcount block.
     */
    public ReftableDamage damage(int index) {
        long raw = entries[index];
        ReftableEntry e = new ReftableEntry(raw);
        ReftableDamage.Reason reason = null;
        if (e.reservedBits() != 0) reason = ReftableDamage.Reason.RESERVED_BITS;
        else if (!geo.isClusterAligned(e.refblockOffset())) reason = ReftableDamage.Reason.UNALIGNED;
        else if (Long.compareUnsigned(e.refblockOffset() >>> geo.clusterBits(), fileClusters) >= 0) {
            reason = ReftableDamage.Reason.PAST_END_OF_FILE;
        }
        return reason == null ? null : new ReftableDamage(index, entryFileOffset(index), raw, reason);
    }

    /**
     * The refcount block of entry {@code index}: 0 when there is none (index past the table, or
     * an entry of 0: every refcount under it is 0). Reserved bits are masked off.
     *
     * @throws RefcountUnreadableException when the entry is damaged in a way the policy refuses
     */
    public long refblockOffset(long index) throws RefcountUnreadableException {
        if (index >= entries.length || index < 0) return 0;
        if (unreadable != null && unreadable[(int) index] != null) throw unreadable[(int) index];
        return entries[(int) index] & ReftableEntry.OFFSET_MASK;
    }

    /**
     * Points entry {@code index} at {@code refblockOffset} in memory, a block the caller has
     * written (the caller writes the entry to the file).
     */
    public void set(int index, long refblockOffset) {
        entries[index] = ReftableEntry.of(refblockOffset).raw();
        // the caller has written the block: the file reaches at least past it
        fileClusters = Math.max(fileClusters, (refblockOffset >>> geo.clusterBits()) + 1);
        validate(index);
    }

    /** A copy of the raw entries, for building a larger table. */
    public long[] copy() { return entries.clone(); }

    /** A new table of the same geometry and policy, e.g. the grown one. */
    public Reftable replacedBy(long newOffset, long[] newEntries, long fileLength) {
        return new Reftable(resource, geo, newOffset, newEntries, fileLength, policy);
    }

    private void validate(int index) {
        ReftableDamage d = entries[index] == 0 ? null : damage(index);
        if (d != null && policy.unreadable(d.reason())) {
            if (unreadable == null) unreadable = new RefcountUnreadableException[entries.length];
            unreadable[index] = new RefcountUnreadableException(resource, d);
        } else if (unreadable != null) {
            unreadable[index] = null;
        }
    }
}
