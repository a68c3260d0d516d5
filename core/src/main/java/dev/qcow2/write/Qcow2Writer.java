package dev.qcow2.write;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.alloc.ClusterAllocator;
import dev.qcow2.alloc.RefcountStore;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.codec.ClusterDecompressor;
import dev.qcow2.format.CompressionType;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.UnsupportedFeatureException;
import dev.qcow2.crypto.SecretLookup;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.image.Encryption;
import dev.qcow2.image.LayerReader;
import dev.qcow2.storage.WritableStorage;
import dev.qcow2.units.ClusterGeometry;
import dev.qcow2.units.GuestOffset;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A qcow2 image opened for writing guest data (one writer at a time: the file is locked).
 * Every method leaves the image consistent for {@code qemu-img check}; a crash at any point
 * leaves at worst leaked clusters (see {@link Updates} and {@link ClusterAllocator} for the
 * write order). Data is durable after {@link #flush()} or {@link #close()}.
 */
public final class Qcow2Writer implements Closeable {
    private final SyncedStorage storage;
    private final Qcow2Header header;
    private final ClusterGeometry geo;
    private final DirtyBit dirty;
    private final BlockDevice backing;
    private final ClusterAllocator allocator;
    private final L2Tables tables;
    private final LayerReader reader;
    private final DataWriter data;
    private final ZeroDiscard zeroDiscard;
    private final CompressedWriter compressed;
    /** Persistent dirty bitmaps: loaded and marked IN_USE on open, set by every change, stored on close. */
    private final BitmapTracker bitmaps;
    private final Encryption encryption;
    private long size;

    private Qcow2Writer(SyncedStorage storage, Qcow2Header header, BlockDevice backing, Encryption encryption) throws IOException {
        this.storage = storage;
        this.header = header;
        this.geo = header.geometry();
        this.backing = backing;
        this.encryption = encryption;
        this.size = header.size() & ~511L;
        this.dirty = new DirtyBit(storage, header);
        RefcountStore refcounts = new RefcountStore(storage, geo, header.refcountTableOffset(), (int) header.refcountTableClusters());
        refcounts.writeBack(true);
        this.allocator = new ClusterAllocator(storage, refcounts);
        this.tables = new L2Tables(storage, geo, allocator, header.l1TableOffset(), (int) header.l1Size(), header.version());
        CompressionType type = CompressionType.of(header.compressionType());
        // the read path of read-only images, over the writer's tables and pending writes
        // (no external data file: WriteChecks refuses it; an encrypted image is unlocked)
        PendingView file = new PendingView(storage);
        this.reader = new LayerReader(storage.describe(), tables.mapper(), file, file, backing,
                ClusterDecompressor.of(type), encryption, false);
        this.data = new DataWriter(storage, geo, tables, allocator, reader);
        this.zeroDiscard = new ZeroDiscard(storage, geo, tables, allocator, data, header.version(), backing != null);
        this.compressed = new CompressedWriter(storage, geo, tables, allocator, data, ClusterCompressor.of(type));
        this.bitmaps = BitmapTracker.open(storage, allocator, header, size);
    }

    /** Opens {@code path} for writing (through {@link WriteOptions#opener()}: holding an exclusive lock until closed). */
    public static Qcow2Writer open(Path path, WriteOptions options) throws IOException {
        WritableStorage file = options.opener().open(path);
        try {
            return open(file, path, options);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /**
     * Opens an image on any writable storage; the backing file is resolved relative to
     * {@code path} (may be null). Closing the writer closes the storage.
     */
    public static Qcow2Writer open(WritableStorage file, Path path, WriteOptions options) throws IOException {
        String res = file.describe();
        Qcow2Header header = Qcow2Header.read(file);
        WriteChecks.refuseUnwritable(res, header);
        // QEMU opens an encrypted image only with its key, and checks the key before it writes
        // anything (a wrong passphrase changes nothing, not even the autoclear bits)
        Encryption encryption = Encryption.open(res, file, header, options.secrets(), new SecretLookup.Layer(path, 0, Optional.empty()));
        BlockDevice backing = null;
        try {
            if (encryption instanceof Encryption.Locked locked) throw locked.refusal(res);
            SyncedStorage storage = new SyncedStorage(file);
            WriteChecks.clearUnknownAutoclear(storage, header);
            backing = BackingOpener.open(res, path, header, options);
            return new Qcow2Writer(storage, header, backing, encryption);
        } catch (IOException | RuntimeException e) {
            encryption.close();
            if (backing != null) backing.close();
            throw e;
        }
    }

    public String describe() { return storage.describe(); }

    /** The guest-visible size (whole sectors, as QEMU counts it). */
    public long size() { return size; }

    public ClusterGeometry geometry() { return geo; }

    public Qcow2Header header() { return header; }

    /*
     * Requests take GuestOffsets. The long forms further down are for front ends holding plain
     * numbers (command line, DSL, benchmarks); they check the range first, so a negative offset
     * is the same one-line "outside the disk" error as any other, then convert.
     */

    public void read(GuestOffset guestOffset, byte[] buf, int off, int len) throws IOException {
        checkRange("read", guestOffset.value(), len);
        reader.read(guestOffset, buf, off, len);
    }

    public byte[] read(GuestOffset guestOffset, int len) throws IOException {
        byte[] out = new byte[len];
        read(guestOffset, out, 0, len);
        return out;
    }

    public void write(GuestOffset guestOffset, byte[] bytes) throws IOException { write(guestOffset, bytes, 0, bytes.length); }

    public void write(GuestOffset guestOffset, byte[] bytes, int off, int len) throws IOException {
        checkRange("write", guestOffset.value(), len);
        dirty.beforeChange();
        bitmaps.mark(guestOffset.value(), len);
        data.write(guestOffset.value(), bytes, off, len);
    }

    /**
     * Writes the remaining bytes of {@code data} at {@code guestOffset} (the buffer's position is
     * not moved). New clusters of a long write are allocated as one contiguous run and written
     * straight from the buffer, so a direct buffer reaches the file without a copy.
     */
    public void write(GuestOffset guestOffset, ByteBuffer data) throws IOException {
        checkRange("write", guestOffset.value(), data.remaining());
        dirty.beforeChange();
        bitmaps.mark(guestOffset.value(), data.remaining());
        this.data.write(guestOffset.value(), data);
    }

    /**
     * Several writes applied as one operation, like requests in flight together (qemu-img
     * bench's queue): later ones win where they overlap, and their metadata shares one
     * ordering point instead of one per write. Buffers' positions are not moved.
     */
    public void writeAll(GuestOffset[] guestOffsets, ByteBuffer[] buffers) throws IOException {
        if (guestOffsets.length != buffers.length) throw new IllegalArgumentException("offsets and buffers differ in number");
        long[] offsets = new long[guestOffsets.length];
        for (int i = 0; i < guestOffsets.length; i++) {
            offsets[i] = guestOffsets[i].value();
            checkRange("write", offsets[i], buffers[i].remaining());
        }
        dirty.beforeChange();
        for (int i = 0; i < offsets.length; i++) bitmaps.mark(offsets[i], buffers[i].remaining());
        data.writeAll(offsets, buffers);
    }

    /** Makes the range read as zeros, keeping host clusters allocated (no unmap), like qemu-io {@code write -z}. */
    public void writeZeroes(GuestOffset guestOffset, long length) throws IOException { writeZeroes(guestOffset, length, false); }

    /** @param unmap release host clusters where possible, like qemu-io {@code write -z -u} */
    public void writeZeroes(GuestOffset guestOffset, long length, boolean unmap) throws IOException {
        checkRange("write", guestOffset.value(), length);
        dirty.beforeChange();
        bitmaps.mark(guestOffset.value(), length);
        zeroDiscard.writeZeroes(guestOffset.value(), length, size, unmap);
    }

    /** Discards the whole clusters inside the range (QEMU ignores partial ones). */
    public void discard(GuestOffset guestOffset, long length) throws IOException {
        checkRange("discard", guestOffset.value(), length);
        dirty.beforeChange();
        bitmaps.mark(guestOffset.value(), length);
        zeroDiscard.discard(guestOffset.value(), length, size);
    }

    /**
     * Writes one whole cluster compressed (or the partial last cluster of the disk). Falls back
     * to a normal write when compression does not save at least one byte, as QEMU does.
     */
    public void writeCompressed(GuestOffset guestOffset, byte[] cluster) throws IOException {
        checkWholeCluster(guestOffset.value(), cluster.length);
        refuseCompressedIfEncrypted();
        dirty.beforeChange();
        bitmaps.mark(guestOffset.value(), cluster.length);
        compressed.write(guestOffset.value(), cluster);
    }

    /**
     * {@link #writeCompressed} with the compression done by the caller (e.g. on several threads)
     * using {@link ClusterCompressor#of} of this image's {@link #compressionType()} and a limit of
     * cluster size - 1; {@code packed} null means it did not fit (written uncompressed).
     */
    public void writePrecompressed(GuestOffset guestOffset, byte[] cluster, byte[] packed) throws IOException {
        checkWholeCluster(guestOffset.value(), cluster.length);
        refuseCompressedIfEncrypted();
        dirty.beforeChange();
        bitmaps.mark(guestOffset.value(), cluster.length);
        compressed.writePacked(guestOffset.value(), cluster, packed);
    }

    private void checkWholeCluster(long guestOffset, int length) throws Qcow2Exception {
        checkRange("write", guestOffset, length);
        boolean whole = length == geo.clusterSize() || (length < geo.clusterSize() && guestOffset + length == size);
        if (!geo.isClusterAligned(guestOffset) || !whole) {
            throw new Qcow2Exception(storage.describe(), "compressed writes must cover exactly one cluster ("
                    + geo.clusterSize() + " bytes at a cluster-aligned offset, or the last cluster of the disk)");
        }
    }

    /**
     * QEMU's qcow2 driver would store a compressed cluster of an encrypted image unencrypted
     * (qcow2_co_pwritev_compressed_task never encrypts); qemu-img refuses such writes, and so
     * does this writer: nothing of an encrypted image is written in the clear.
     */
    private void refuseCompressedIfEncrypted() throws Qcow2Exception {
        if (encryption.encrypted()) {
            throw new UnsupportedFeatureException(storage.describe(), "Compression and encryption not supported at the same time");
        }
    }

    /** Whether this image is encrypted (it is then unlocked: the writer refuses to open it without its key). */
    public boolean encrypted() { return encryption.encrypted(); }

    /** The compression type of compressed clusters written to this image. */
    public CompressionType compressionType() { return CompressionType.of(header.compressionType()); }

    /** Whether this image (not its backing file) decides the content at {@code guestOffset}. */
    public boolean allocated(GuestOffset guestOffset) throws IOException { return reader.allocated(guestOffset); }

    // Front ends' forms: plain numbers checked, then converted.

    public void read(long guestOffset, byte[] buf, int off, int len) throws IOException {
        read(guest("read", guestOffset, len), buf, off, len);
    }

    public byte[] read(long guestOffset, int len) throws IOException { return read(guest("read", guestOffset, len), len); }

    public void write(long guestOffset, byte[] bytes) throws IOException { write(guest("write", guestOffset, bytes.length), bytes); }

    public void write(long guestOffset, byte[] bytes, int off, int len) throws IOException {
        write(guest("write", guestOffset, len), bytes, off, len);
    }

    public void write(long guestOffset, ByteBuffer data) throws IOException { write(guest("write", guestOffset, data.remaining()), data); }

    public void writeAll(long[] guestOffsets, ByteBuffer[] buffers) throws IOException {
        if (guestOffsets.length != buffers.length) throw new IllegalArgumentException("offsets and buffers differ in number");
        GuestOffset[] typed = new GuestOffset[guestOffsets.length];
        for (int i = 0; i < typed.length; i++) typed[i] = guest("write", guestOffsets[i], buffers[i].remaining());
        writeAll(typed, buffers);
    }

    public void writeZeroes(long guestOffset, long length) throws IOException { writeZeroes(guest("write", guestOffset, length), length); }

    public void writeZeroes(long guestOffset, long length, boolean unmap) throws IOException {
        writeZeroes(guest("write", guestOffset, length), length, unmap);
    }

    public void discard(long guestOffset, long length) throws IOException { discard(guest("discard", guestOffset, length), length); }

    public void writeCompressed(long guestOffset, byte[] cluster) throws IOException {
        writeCompressed(guest("write", guestOffset, cluster.length), cluster);
    }

    public void writePrecompressed(long guestOffset, byte[] cluster, byte[] packed) throws IOException {
        writePrecompressed(guest("write", guestOffset, cluster.length), cluster, packed);
    }

    public boolean allocated(long guestOffset) throws IOException { return allocated(new GuestOffset(guestOffset)); }

    /** A front end's offset, refused with the one-line range error when it is outside the disk. */
    private GuestOffset guest(String op, long offset, long length) throws Qcow2Exception {
        checkRange(op, offset, length);
        return new GuestOffset(offset);
    }

    public void flush() throws IOException { storage.flush(); }

    /** The engine parts a resize changes (dev.qcow2.resize). */
    public ResizeHooks resizeHooks() { return new ResizeHooks(this, storage, allocator, tables, zeroDiscard, dirty, backing, reader); }

    void setSize(long newSize) {
        size = newSize;
        bitmaps.resize(newSize);
    }

    /** The persistent dirty bitmaps of this image (add, remove, clear, enable, disable, merge; stored on close). */
    public BitmapTracker bitmaps() { return bitmaps; }

    private void checkRange(String op, long offset, long length) throws Qcow2Exception {
        if (offset < 0 || length < 0 || offset > size || length > size - offset) {
            throw new Qcow2Exception(storage.describe(), op + " of " + length + " bytes at offset " + offset
                    + " is outside the disk (" + size + " bytes)");
        }
    }

    /** Flushes, clears the dirty bit if this writer set it (QEMU's qcow2_mark_clean), and releases the lock. */
    @Override
    public void close() throws IOException {
        try {
            bitmaps.store();      // qcow2_inactivate: bitmaps first, then flush and mark clean
            storage.flush();
            dirty.markClean();
        } finally {
            try {
                if (backing != null) backing.close();
            } finally {
                encryption.close();
                storage.raw().close();
            }
        }
    }
}
