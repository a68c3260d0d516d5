package dev.qcow2.walk;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.format.BitmapDirectoryEntry;
import dev.qcow2.format.HeaderExtension;
import dev.qcow2.format.L1Entry;
import dev.qcow2.format.L2Entry;
import dev.qcow2.format.SnapshotEntry;
import dev.qcow2.refcount.ReftableDamage;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Receives what a {@link MetadataWalk} finds. {@link #range} is the one method every visitor
 * implements: a host range and its owner. The hooks let a visitor validate entries as it goes
 * (check reports damage from them, with the exact order of QEMU's qcow2_check_refcounts) and
 * decide what is descended into; their defaults follow the format and validate nothing.
 *
 * <p>Hot path: for each L2 entry the walk calls {@link #l2Entry} and, for an entry with a host
 * range, {@link #dataRange}, passing primitives only; the default {@code dataRange} makes an
 * {@link Owner} and calls {@link #range}, a visitor walking millions of clusters overrides it.
 *
 * @param <X> the exception a visitor may end the walk with
 */
public interface MetadataVisitor<X extends Exception> {

    /** The host bytes [offset, offset + length) belong to {@code owner}. */
    void range(Owner owner, long offset, long length) throws IOException, X;

    /** An L2 entry's host range: data of {@code guestOffset} in {@code tree}. */
    default void dataRange(Tree tree, long guestOffset, DataKind kind, long offset, long length) throws IOException, X {
        range(kind.owner(tree, guestOffset), offset, length);
    }

    /** A snapshot's tree is about to be walked; false skips it. */
    default boolean snapshot(SnapshotEntry snapshot) throws IOException, X { return true; }

    /**
     * A nonzero L1 entry at file offset {@code entryOffset}; true walks the L2 table it names
     * (its range, then its entries). Default: only when it names one.
     */
    default boolean l1Entry(Tree tree, int index, long entryOffset, long raw) throws IOException, X {
        return new L1Entry(raw).allocated();
    }

    /**
     * One L2 entry (every entry, allocated or not) as stored at file offset {@code entryOffset}:
     * the descriptor {@code raw} and, with extended L2, the subcluster {@code bitmap} (else 0);
     * {@link MetadataWalk#decode} makes the {@link L2Entry}. True lets the walk pass its host
     * range, if any, to {@link #dataRange}. Primitives, so that the hot path allocates nothing.
     */
    default boolean l2Entry(Tree tree, long guestOffset, int index, long entryOffset, long raw, long bitmap)
            throws IOException, X {
        return true;
    }

    /** After the entries of the L2 table at {@code l2Offset}: {@code table} holds them from position 0 (the walk's buffer: read only). */
    default void l2TableDone(Tree tree, int l1Index, long l1Raw, long l2Offset, ByteBuffer table) throws IOException, X { }

    /** The bitmap directory did not load; default: the walk fails with the error. */
    default void bitmapDirectoryUnreadable(HeaderExtension.Bitmaps extension, Qcow2Exception error) throws IOException, X {
        throw error;
    }

    /** A bitmap's table as read; true passes its data clusters to {@link #range}. */
    default boolean bitmapTable(BitmapDirectoryEntry bitmap, ByteBuffer table) throws IOException, X { return true; }

    /**
     * Refcount table entry {@code index} and what is wrong with it ({@code damage}, null when
     * nothing); true passes the block it names, if any, to {@link #range} (by default every
     * block, damaged or not: the check's visitor reports and skips damaged ones).
     */
    default boolean reftableEntry(int index, long raw, ReftableDamage damage) throws IOException, X { return true; }
}
