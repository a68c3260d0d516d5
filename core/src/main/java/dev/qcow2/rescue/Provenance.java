package dev.qcow2.rescue;

import java.util.List;

/**
 * What an unreferenced host cluster most likely was, with the evidence (qcow2.rst structures,
 * recognised by their shape and by what still points at them). Inferred unless the evidence says
 * it was read off a table: the format keeps no record of freed clusters.
 */
public sealed interface Provenance {

    /** A short label ("l2-table", "freed-data", ...), used in file names and the manifest. */
    String kind();

    /** One sentence: what it was and why the carver says so. */
    String evidence();

    /**
     * An L2 table no live L1 references (a COW copy left by a deleted snapshot, a table replaced
     * by a rewrite). {@code guestOffset} is the start of the guest range it mapped, -1 when no
     * evidence places it; {@code how} says where the position comes from.
     */
    record OldL2Table(long guestOffset, long guestLength, String how, int normal, int compressed, int zero, String snapshot)
            implements Provenance {
        public String kind() { return "l2-table"; }
        public String evidence() {
            String range = guestOffset < 0 ? "an unknown guest range (" + how + ")"
                    : "guest " + hex(guestOffset) + ".." + hex(guestOffset + guestLength - 1) + " (" + how + ")";
            return "old L2 table" + of(snapshot) + " mapping " + range + ": " + normal + " data, " + compressed
                    + " compressed, " + zero + " zero entries";
        }
    }

    /** An L1 table no header or snapshot entry names any more ({@code snapshot}: the name an old snapshot table gives it, or null). */
    record OldL1Table(String snapshot, int l2Tables) implements Provenance {
        public String kind() { return "l1-table"; }
        public String evidence() {
            return "old L1 table" + of(snapshot) + ": " + l2Tables + " entries pointing at L2-table-shaped clusters";
        }
    }

    /** A cluster of 16-bit refcounts (refcount_order 4) no refcount table names: replaced by a grown table or a repair. */
    record OldRefcountBlock(int counts) implements Provenance {
        public String kind() { return "refcount-block"; }
        public String evidence() { return "old refcount block: " + counts + " non-zero 16-bit counts, no reftable entry names it"; }
    }

    /** A table whose entries all point at refcount blocks: a refcount table replaced when the table grew. */
    record OldRefcountTable(int blocks) implements Provenance {
        public String kind() { return "refcount-table"; }
        public String evidence() { return "old refcount table: " + blocks + " entries pointing at refcount blocks"; }
    }

    /** A snapshot table no header names (QEMU writes a new one on snapshot create/delete and frees the old). */
    record OldSnapshotTable(List<String> snapshots) implements Provenance {
        public String kind() { return "snapshot-table"; }
        public String evidence() { return "old snapshot table listing " + snapshots.size() + " snapshot(s): " + String.join(", ", snapshots); }
    }

    /**
     * A data cluster an old L2 table maps at {@code guestOffset} (-1 when that table's guest range
     * is unknown): freed by a snapshot delete ({@code snapshot}, when an old snapshot table names
     * the L1 that reached it), a discard or a rewrite.
     */
    record FreedData(long guestOffset, long l2Offset, String snapshot, String looksLike) implements Provenance {
        public String kind() { return "freed-data"; }
        public String evidence() {
            return "data cluster of guest " + (guestOffset < 0 ? "(unknown offset)" : hex(guestOffset)) + " in the old L2 table at "
                    + hex(l2Offset) + of(snapshot) + "; holds " + looksLike;
        }
    }

    /**
     * Compressed cluster streams ({@code streams} of them start in this cluster; the first at host
     * byte {@code streamOffset}, mapped at {@code guestOffset} by an old L2 table, -1 when found by
     * decoding), and what the first decompresses to with the image's compression type.
     */
    record CompressedStream(long streamOffset, long guestOffset, String decompressesTo, int streams) implements Provenance {
        public String kind() { return "compressed"; }
        public String evidence() {
            return (streams > 1 ? streams + " compressed streams, the first at " : "compressed stream at ") + hex(streamOffset)
                    + (guestOffset < 0 ? "" : " (guest " + hex(guestOffset) + " by an old L2 table)")
                    + ", decompresses to one cluster of " + decompressesTo;
        }
    }

    /** All zero bytes (listed only when leaked: a free zero cluster is ordinary free space). */
    record Zeros() implements Provenance {
        public String kind() { return "zeros"; }
        public String evidence() { return "all zeros"; }
    }

    /** Nothing points at it and it has no table shape: what its bytes look like. */
    record UnknownData(String looksLike) implements Provenance {
        public String kind() { return "unknown"; }
        public String evidence() { return "no table references it; holds " + looksLike; }
    }

    private static String of(String snapshot) { return snapshot == null ? "" : " of deleted snapshot '" + snapshot + "'"; }

    private static String hex(long v) { return "0x" + Long.toHexString(v); }
}
