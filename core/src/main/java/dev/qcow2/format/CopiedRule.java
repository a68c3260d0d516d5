package dev.qcow2.format;

import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The OFLAG_COPIED rule (qcow2.rst "Cluster mapping": bit 63 of an L1 or L2 entry is "set if
 * and only if the refcount of the [L2 table or data] cluster is exactly one"), in one place for
 * the three users: {@code check} evaluates it (QEMU's check_oflag_copied), {@code check -r}
 * fixes it, and snapshot create/delete/apply recompute it (qcow2_update_snapshot_refcount with
 * addend 0).
 *
 * <p>Which entries the rule governs: an L1 entry naming an L2 table; an L2 entry with a host
 * cluster, i.e. normal and preallocated zero entries. Unallocated, plain zero and compressed
 * entries ("must never be set for compressed clusters") must not carry the bit. With an
 * external data file the data clusters' refcount is taken as 1 (QEMU: data-file clusters are
 * not refcounted).
 */
public final class CopiedRule {
    private CopiedRule() { }

    /** The refcount of the cluster at a host offset; throws {@link #UNKNOWN} when it cannot be read. */
    @FunctionalInterface
    public interface Refcounts {
        long of(long hostOffset, long entryFileOffset) throws IOException, Unknown;
    }

    /** Receives each entry whose bit disagrees with the rule: its index, raw word, the word wanted and the refcount (-1: not governed). */
    @FunctionalInterface
    public interface Mismatch {
        void found(int index, long raw, long wanted, long refcount) throws IOException;
    }

    /** A refcount that cannot be read: the entry is skipped (QEMU: the refcount comparison already reported it). */
    public static final class Unknown extends Exception {
        private Unknown() { super(null, null, false, false); }
    }

    public static final Unknown UNKNOWN = new Unknown();

    /** The rule itself: set exactly when the refcount is one. */
    public static boolean wanted(long refcount) { return refcount == 1; }

    /** {@code raw} with bit 63 as the rule wants it for {@code refcount} (same bit in L1 and L2 entries). */
    public static long apply(long raw, long refcount) {
        return wanted(refcount) ? raw | L1Entry.COPIED : raw & ~L1Entry.COPIED;
    }

    /** Whether the rule governs an L2 entry (it has a host cluster); other entries must not carry the bit. */
    public static boolean governs(L2Entry e) {
        return e instanceof L2Entry.Normal || (e instanceof L2Entry.Zero z && z.preallocated());
    }

    /**
     * {@link #governs(L2Entry)} of the entry {@code raw} decodes to ({@link L2Entry#decode}),
     * from its bits: check evaluates the rule for every entry of every active L2 table, without
     * making an object per entry.
     */
    public static boolean governs(long raw, ClusterGeometry geo, boolean externalDataFile) {
        if ((raw & L2Entry.COMPRESSED) != 0) return false;
        long host = raw & L2Entry.OFFSET_MASK;
        if ((raw & L2Entry.ZERO) != 0 && !geo.extendedL2()) return host != 0;               // Zero: preallocated
        return host != 0 || (externalDataFile && (raw & L2Entry.COPIED) != 0);              // Normal, else Unallocated
    }

    /**
     * Evaluates the rule over one L2 table ({@code table} holds its entries from position 0,
     * {@code tableOffset} its file offset), passing every disagreeing entry to {@code sink}.
     * With {@code alsoUngoverned} an entry the rule does not govern but that carries the bit is a
     * mismatch too (wanted: the bit cleared), as a recompute needs; check and repair look only at
     * governed entries (a compressed entry's bit is its own finding).
     */
    public static void scanL2(ByteBuffer table, long tableOffset, ClusterGeometry geo, boolean externalDataFile,
                              boolean alsoUngoverned, Refcounts refcounts, Mismatch sink) throws IOException {
        int entrySize = geo.l2EntrySize();
        for (int j = 0; j < geo.l2Entries(); j++) {
            long raw = table.getLong(j * entrySize);
            if (!governs(raw, geo, externalDataFile)) {
                if (alsoUngoverned && (raw & L2Entry.COPIED) != 0) sink.found(j, raw, raw & ~L2Entry.COPIED, -1);
                continue;
            }
            long refcount;
            if (externalDataFile) {
                refcount = 1;
            } else {
                try {
                    refcount = refcounts.of(raw & L2Entry.OFFSET_MASK, tableOffset + (long) j * entrySize);
                } catch (Unknown u) {
                    continue;
                }
            }
            long want = apply(raw, refcount);
            if (want != raw) sink.found(j, raw, want, refcount);
        }
    }
}
