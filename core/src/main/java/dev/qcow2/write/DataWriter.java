package dev.qcow2.write;

import dev.qcow2.CorruptImageException;
import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.L2Entry;
import dev.qcow2.format.SubclusterType;
import dev.qcow2.image.Encryption;
import dev.qcow2.image.LayerReader;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.units.GuestOffset;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Guest data writes, cluster by cluster, as QEMU's qcow2_alloc_host_offset: a cluster whose
 * entry has OFLAG_COPIED (refcount 1) is written in place (handle_copied); any other — not
 * allocated, zero, compressed, or shared with a snapshot — gets a new host cluster holding the
 * written bytes plus a copy of the untouched part of the guest view (handle_alloc +
 * perform_cow). With extended L2 only written subclusters become allocated; only partially
 * written subclusters are copied, plus, when leaving a shared or compressed cluster, the
 * subclusters that held data there.
 */
final class DataWriter {
    /** Longest run of new clusters allocated and written at once (bounds the metadata of one step). */
    private static final int MAX_RUN_CLUSTERS = 8192;

    private final SyncedStorage storage;
    private final ClusterGeometry geo;
    private final L2Tables tables;
    private final ClusterAllocator allocator;
    private final LayerReader reader;
    /** One cluster of copy-on-write space, reused (the engine is single-threaded). */
    private final byte[] clusterBuffer;
    /** The key of an encrypted image, or null: data is encrypted on its way to the file. */
    private final Encryption.Unlocked key;
    /** Space to encrypt into (the caller's buffer is never changed). */
    private byte[] cipherBuffer;

    DataWriter(SyncedStorage storage, ClusterGeometry geo, L2Tables tables, ClusterAllocator allocator, LayerReader reader) {
        this.storage = storage;
        this.geo = geo;
        this.tables = tables;
        this.allocator = allocator;
        this.reader = reader;
        this.clusterBuffer = new byte[geo.clusterSize()];
        this.key = switch (reader.encryption()) {
            case Encryption.None none -> null;
            case Encryption.Unlocked unlocked -> unlocked;
            // Qcow2Writer.open refuses an encrypted image without a key
            case Encryption.Locked locked -> throw new IllegalStateException("writer over a locked encrypted image");
        };
    }

    /** Longest piece encrypted at once (bounds the scratch buffer of a long write). */
    private static final int CIPHER_CHUNK = 1 << 20;

    /**
     * Writes guest data bytes to host bytes: as they are, or encrypted for that place (QEMU's
     * qcow2_co_encrypt in qcow2_co_pwritev_task and do_perform_cow_encrypt — the IV follows the
     * NEW host offset for LUKS, so data copied on write is encrypted again for its new cluster).
     * With a key, {@code host} and {@code guest} are sector-aligned and the length whole sectors
     * ({@link #write(long, ByteBuffer, Updates)} aligns every request first).
     */
    private void writeData(long host, long guest, ByteBuffer src) throws IOException {
        if (key == null) {
            storage.write(host, src);
            return;
        }
        int len = src.remaining();
        if (host % Encryption.SECTOR != 0 || guest % Encryption.SECTOR != 0 || len % Encryption.SECTOR != 0) {
            throw new IllegalStateException("encrypted write of " + len + " bytes at host " + host + " / guest " + guest
                    + " is not sector-aligned");
        }
        if (cipherBuffer == null) cipherBuffer = new byte[CIPHER_CHUNK];
        int base = src.position();
        for (int done = 0; done < len; ) {
            int n = Math.min(CIPHER_CHUNK, len - done);
            src.get(base + done, cipherBuffer, 0, n);
            key.encrypt(host + done, guest + done, cipherBuffer, 0, n);
            storage.write(host + done, cipherBuffer, 0, n);
            done += n;
        }
    }

    private void writeData(long host, long guest, byte[] bytes) throws IOException { writeData(host, guest, ByteBuffer.wrap(bytes)); }

    void write(long guestOffset, byte[] data, int off, int len) throws IOException {
        write(guestOffset, ByteBuffer.wrap(data, off, len));
    }

    /** Writes the remaining bytes of {@code data} (not consumed); one ordering point for all of it. */
    void write(long guestOffset, ByteBuffer data) throws IOException {
        Updates updates = new Updates();
        write(guestOffset, data, updates);
        updates.commit(storage, tables, allocator, geo);
    }

    /**
     * Several writes applied as one operation, as requests in flight together: their new
     * clusters share one ordering point (data and refcounts durable, then all L2 entries).
     * Where a later write reaches a cluster whose new entry is still queued, the queue is
     * committed first, so the later write sees the earlier one.
     */
    void writeAll(long[] guestOffsets, ByteBuffer[] data) throws IOException {
        Updates updates = new Updates();
        for (int i = 0; i < guestOffsets.length; i++) write(guestOffsets[i], data[i], updates);
        updates.commit(storage, tables, allocator, geo);
    }

    private void write(long guestOffset, ByteBuffer data, Updates updates) throws IOException {
        int len = data.remaining();
        if (key != null && len > 0 && (guestOffset % Encryption.SECTOR != 0 || (guestOffset + len) % Encryption.SECTOR != 0)) {
            writeSectorAligned(guestOffset, data, updates);
        } else {
            writeAligned(guestOffset, data, updates);
        }
    }

    /**
     * An encrypted image is written in whole sectors (QEMU's block layer aligns requests to
     * the cipher's 512 bytes, bdrv_co_pwritev_part's read-modify-write): a partial first or
     * last sector is read as the guest sees it (decrypted), merged, and written whole.
     */
    private void writeSectorAligned(long guestOffset, ByteBuffer data, Updates updates) throws IOException {
        int sector = Encryption.SECTOR;
        // the edge sectors must show every earlier write of this operation
        updates.commit(storage, tables, allocator, geo);
        int pos = data.position();
        int len = data.remaining();
        long end = guestOffset + len;
        long headStart = guestOffset - guestOffset % sector;
        long tailStart = end - end % sector;
        if (headStart == tailStart || (end % sector == 0 && headStart + sector == end)) {
            // one sector holds the whole request
            byte[] merged = new byte[sector];
            reader.read(new GuestOffset(headStart), merged, 0, sector);
            data.get(pos, merged, (int) (guestOffset - headStart), len);
            writeAligned(headStart, ByteBuffer.wrap(merged), updates);
            return;
        }
        byte[] head = null, tail = null;
        int headTake = 0;
        if (guestOffset != headStart) {
            head = new byte[sector];
            reader.read(new GuestOffset(headStart), head, 0, sector);
            headTake = (int) (headStart + sector - guestOffset);
            data.get(pos, head, sector - headTake, headTake);
        }
        int tailTake = (int) (end - tailStart);
        if (tailTake != 0) {
            tail = new byte[sector];
            reader.read(new GuestOffset(tailStart), tail, 0, sector);
            data.get(pos + len - tailTake, tail, 0, tailTake);
        }
        if (head != null) writeAligned(headStart, ByteBuffer.wrap(head), updates);
        int middle = len - headTake - tailTake;
        if (middle > 0) writeAligned(guestOffset + headTake, data.slice(pos + headTake, middle), updates);
        if (tail != null) writeAligned(tailStart, ByteBuffer.wrap(tail), updates);
    }

    private void writeAligned(long guestOffset, ByteBuffer data, Updates updates) throws IOException {
        int off = data.position();
        int len = data.remaining();
        while (len > 0) {
            int from = (int) geo.offsetInCluster(guestOffset);
            int n = Math.min(len, geo.clusterSize() - from);
            long clusterStart = guestOffset - from;
            L2Tables.Slot slot = tables.writable(clusterStart);
            if (updates.queued(slot)) {
                updates.commit(storage, tables, allocator, geo);
                slot = tables.writable(clusterStart);
            }
            if (geo.extendedL2()) {
                writeExtended(slot, clusterStart, from, from + n, data, off, updates);
            } else if (from == 0 && n == geo.clusterSize() && needsNewCluster(tables.entry(slot))) {
                n = writeFreshRun(slot, clusterStart, data, off, len, updates);
            } else {
                writeStandard(slot, clusterStart, from, from + n, data, off, updates);
            }
            guestOffset += n;
            off += n;
            len -= n;
        }
    }

    /** Whether a whole-cluster write must allocate (not in place, no preallocated cluster to reuse). */
    private static boolean needsNewCluster(L2Entry e) {
        boolean inPlace = e instanceof L2Entry.Normal n && n.copied();
        boolean reuse = e instanceof L2Entry.Zero z && z.preallocated() && z.copied();
        return !inPlace && !reuse;
    }

    /**
     * Whole clusters from {@code clusterStart} that all need new host clusters (QEMU's
     * handle_alloc for several clusters): allocated as one contiguous run and written with one
     * write straight from the caller's buffer, no copy-on-write needed. Returns the bytes done.
     */
    private int writeFreshRun(L2Tables.Slot first, long clusterStart, ByteBuffer src, int srcOff, int len, Updates updates)
            throws IOException {
        int cs = geo.clusterSize();
        int max = Math.min(len / cs, MAX_RUN_CLUSTERS);
        java.util.List<L2Tables.Slot> slots = new java.util.ArrayList<>();
        java.util.List<L2Entry> old = new java.util.ArrayList<>();
        slots.add(first);
        old.add(tables.entry(first));
        while (slots.size() < max) {
            long next = clusterStart + (long) slots.size() * cs;
            L2Tables.Slot slot = tables.writable(next);
            if (updates.queued(slot)) break;
            L2Entry e = tables.entry(slot);
            if (!needsNewCluster(e)) break;
            slots.add(slot);
            old.add(e);
        }
        int k = slots.size();
        long host = allocator.allocate((long) k * cs);
        writeData(host, clusterStart, src.slice(srcOff, k * cs));
        for (int i = 0; i < k; i++) {
            L2Entry e = old.get(i);
            updates.add(slots.get(i), (host + (long) i * cs) | L2Entry.COPIED, 0, Updates.hasHost(e) ? e : null);
        }
        return k * cs;
    }

    private void writeStandard(L2Tables.Slot slot, long clusterStart, int from, int to, ByteBuffer src, int srcOff, Updates updates)
            throws IOException {
        L2Entry e = tables.entry(slot);
        if (e instanceof L2Entry.Normal n && n.copied()) {
            requireAligned(slot, n, n.hostOffset(), clusterStart);
            writeData(n.hostOffset() + from, clusterStart + from, src.slice(srcOff, to - from));
            return;
        }
        // A preallocated zero cluster of our own is reused, as QEMU's cluster_needs_new_alloc.
        boolean reuse = e instanceof L2Entry.Zero z && z.preallocated() && z.copied();
        if (reuse) requireAligned(slot, e, ((L2Entry.Zero) e).hostOffset(), clusterStart);
        long endOfFile = storage.length();
        long host = reuse ? ((L2Entry.Zero) e).hostOffset() : allocator.allocate(geo.clusterSize());
        int cs = geo.clusterSize();
        byte[] cluster = clusterBuffer;
        boolean partial = from != 0 || to != cs;
        if (partial) reader.read(new GuestOffset(clusterStart), cluster, 0, cluster.length);
        if (partial && !reuse && key == null && host >= endOfFile && isZero(cluster, 0, from) && isZero(cluster, to, cs)) {
            // a new cluster past the old end of the file already reads as zeros: copying zeros
            // into it is not needed (as QEMU's handle_alloc_space avoids writing them). Not when
            // encrypted: zeros in the file do not decrypt to zeros.
            storage.write(host + from, src.slice(srcOff, to - from));
        } else {
            src.get(srcOff, cluster, from, to - from);
            writeData(host, clusterStart, cluster);
        }
        updates.add(slot, host | L2Entry.COPIED, 0, reuse || !Updates.hasHost(e) ? null : e);
    }

    /**
     * A cluster written in place must start at a cluster boundary (QEMU's handle_copied signals
     * corruption otherwise): writing at an unaligned host offset would overwrite another cluster.
     */
    private void requireAligned(L2Tables.Slot slot, L2Entry e, long host, long clusterStart) throws CorruptImageException {
        if (!geo.isClusterAligned(host)) {
            throw new CorruptImageException(storage.describe(), "L2 table", slot.fileOffset(geo), e.raw(),
                    "Data cluster offset 0x" + Long.toHexString(host) + " unaligned (guest offset: 0x" + Long.toHexString(clusterStart) + ")");
        }
    }

    private static final byte[] ZEROS = new byte[1 << 16];

    private static boolean isZero(byte[] b, int from, int to) {
        for (int at = from; at < to; at += ZEROS.length) {
            int n = Math.min(ZEROS.length, to - at);
            if (java.util.Arrays.mismatch(b, at, at + n, ZEROS, 0, n) >= 0) return false;
        }
        return true;
    }

    private void writeExtended(L2Tables.Slot slot, long clusterStart, int from, int to, ByteBuffer src, int srcOff, Updates updates)
            throws IOException {
        L2Entry e = tables.entry(slot);
        boolean inPlace = e instanceof L2Entry.Normal n && n.copied();
        long oldBitmap = e == null || e instanceof L2Entry.Compressed ? 0 : e.bitmap();
        if (inPlace) requireAligned(slot, e, ((L2Entry.Normal) e).hostOffset(), clusterStart);
        long host = inPlace ? ((L2Entry.Normal) e).hostOffset() : allocator.allocate(geo.clusterSize());
        int sc = geo.subclusterSize();
        long bitmap = 0;
        for (int i = 0; i < geo.subclustersPerCluster(); i++) {
            int a = i * sc, b = a + sc;
            int wa = Math.max(a, from), wb = Math.min(b, to);
            SubclusterType type = e == null ? SubclusterType.UNALLOCATED_PLAIN : e.subcluster(i);
            if (type == SubclusterType.INVALID) {
                throw new CorruptImageException(storage.describe(), "L2 table", slot.fileOffset(geo), e.raw(),
                        "invalid subcluster bitmap at guest offset 0x" + Long.toHexString(clusterStart));
            }
            if (wa < wb) {
                bitmap |= 1L << i;
                if ((wa == a && wb == b) || (inPlace && type == SubclusterType.NORMAL)) {
                    writeData(host + wa, clusterStart + wa, src.slice(srcOff + wa - from, wb - wa));
                } else {
                    byte[] chunk = new byte[sc];
                    reader.read(new GuestOffset(clusterStart + a), chunk, 0, sc);
                    src.get(srcOff + wa - from, chunk, wa - a, wb - wa);
                    writeData(host + a, clusterStart + a, chunk);
                }
            } else if (inPlace) {
                bitmap |= oldBitmap & ((1L << i) | (1L << (i + 32)));
            } else if (type == SubclusterType.NORMAL || type == SubclusterType.COMPRESSED) {
                bitmap |= 1L << i;
                byte[] chunk = new byte[sc];
                reader.read(new GuestOffset(clusterStart + a), chunk, 0, sc);
                writeData(host + a, clusterStart + a, chunk);
            } else if (type.isZero()) {
                bitmap |= 1L << (i + 32);
            }
        }
        if (inPlace && bitmap == oldBitmap) return;
        updates.add(slot, host | L2Entry.COPIED, bitmap, inPlace || !Updates.hasHost(e) ? null : e);
    }
}
