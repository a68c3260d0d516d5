package dev.qcow2.testing

import dev.qcow2.format.HeaderField
import dev.qcow2.image.BlockDevice
import dev.qcow2.image.OpenOptions
import dev.qcow2.image.Qcow2Image

import java.nio.ByteBuffer
import java.nio.channels.FileChannel
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.nio.file.StandardOpenOption

/**
 * The damage kit of the test suites: makes damaged copies of images (big-endian field writes,
 * header fields by {@link HeaderField} — the same table the library reads and writes the header
 * with —, truncation) and exercises an image the way a user would: open, read the whole disk,
 * list snapshots and bitmaps, open every snapshot, read every bitmap. As an instance
 * ({@code new Damage(file)}) it reads and overwrites the fields of one image, following its own
 * header to the L1 table, refcount blocks, snapshot table and bitmap directory.
 */
class Damage {
    /** Header byte offsets, from the library's one field table (qcow2.rst "Header"). */
    static final int VERSION = HeaderField.VERSION.offset(), BACKING_FILE_OFFSET = HeaderField.BACKING_FILE_OFFSET.offset(),
                     BACKING_FILE_SIZE = HeaderField.BACKING_FILE_SIZE.offset(), CLUSTER_BITS = HeaderField.CLUSTER_BITS.offset(),
                     SIZE = HeaderField.SIZE.offset(), CRYPT_METHOD = HeaderField.CRYPT_METHOD.offset(),
                     L1_SIZE = HeaderField.L1_SIZE.offset(), L1_TABLE_OFFSET = HeaderField.L1_TABLE_OFFSET.offset(),
                     REFCOUNT_TABLE_OFFSET = HeaderField.REFCOUNT_TABLE_OFFSET.offset(),
                     REFCOUNT_TABLE_CLUSTERS = HeaderField.REFCOUNT_TABLE_CLUSTERS.offset(),
                     NB_SNAPSHOTS = HeaderField.NB_SNAPSHOTS.offset(), SNAPSHOTS_OFFSET = HeaderField.SNAPSHOTS_OFFSET.offset(),
                     INCOMPATIBLE_FEATURES = HeaderField.INCOMPATIBLE_FEATURES.offset(),
                     REFCOUNT_ORDER = HeaderField.REFCOUNT_ORDER.offset(), HEADER_LENGTH = HeaderField.HEADER_LENGTH.offset(),
                     COMPRESSION_TYPE = HeaderField.COMPRESSION_TYPE.offset()

    /** Writes {@code value} into header field {@code field} with the field's own width. */
    static void putField(Path f, HeaderField field, long value) {
        switch (field.width()) {
            case 1: putByte(f, field.offset(), (int) value); break
            case 4: putInt(f, field.offset(), value); break
            default: putLong(f, field.offset(), value)
        }
    }

    /** The header field's value as stored (unsigned for 1- and 4-byte fields). */
    static long getField(Path f, HeaderField field) {
        switch (field.width()) {
            case 1: return getInt(f, field.offset()) >>> 24
            case 4: return getInt(f, field.offset())
            default: return getLong(f, field.offset())
        }
    }

    static Path copy(Path src, String name) {
        Files.copy(src, src.resolveSibling(name), StandardCopyOption.REPLACE_EXISTING)
    }

    static void putInt(Path f, long at, long value) { put(f, at, ByteBuffer.allocate(4).putInt(0, (int) value)) }

    static void putLong(Path f, long at, long value) { put(f, at, ByteBuffer.allocate(8).putLong(0, value)) }

    static void putShort(Path f, long at, int value) { put(f, at, ByteBuffer.allocate(2).putShort(0, (short) value)) }

    static void putByte(Path f, long at, int value) { put(f, at, ByteBuffer.wrap([(byte) value] as byte[])) }

    static void putBytes(Path f, long at, byte[] bytes) { put(f, at, ByteBuffer.wrap(bytes)) }

    private static void put(Path f, long at, ByteBuffer b) {
        FileChannel.open(f, StandardOpenOption.WRITE).withCloseable { ch -> ch.write(b.rewind(), at) }
    }

    static void truncate(Path f, long size) {
        FileChannel.open(f, StandardOpenOption.WRITE).withCloseable { ch -> ch.truncate(size) }
    }

    static long getLong(Path f, long at) {
        FileChannel.open(f).withCloseable { ch ->
            def b = ByteBuffer.allocate(8); ch.read(b, at); b.getLong(0)
        }
    }

    static long getInt(Path f, long at) {
        FileChannel.open(f).withCloseable { ch ->
            def b = ByteBuffer.allocate(4); ch.read(b, at); Integer.toUnsignedLong(b.getInt(0))
        }
    }

    /** Offset of the first header extension of {@code type} (its 8-byte type/length header). */
    static long extensionOffset(Path f, long type) {
        long at = getInt(f, HEADER_LENGTH)
        while (true) {
            long t = getInt(f, at), len = getInt(f, at + 4)
            if (t == type) return at
            if (t == 0) return -1
            at += 8 + ((len + 7) & ~7L)
        }
    }

    /**
     * Opens {@code f} following backing files, reads all of the disk (in 1 MiB steps; above
     * {@code fullReadLimit} only the first and last MiB and a few sampled ones), lists snapshots
     * and bitmaps, opens every snapshot (reading the first {@code snapshotsRead} of them) and
     * counts every bitmap's bits.
     */
    static void exercise(Path f, long fullReadLimit = 64L << 20, long seed = 0, int snapshotsRead = 4) {
        byte[] buf = new byte[1 << 20]
        Qcow2Image.open(f, OpenOptions.permissive()).withCloseable { img ->
            readDisk(img, buf, fullReadLimit, seed)
            img.snapshots().eachWithIndex { s, i ->
                def view = img.snapshot(s)
                if (i < snapshotsRead) readDisk(view, buf, fullReadLimit, seed)
            }
            img.bitmaps().each { b -> img.bitmap(b).countSetBits() }
        }
    }

    static void readDisk(BlockDevice dev, byte[] buf, long fullReadLimit, long seed) {
        long size = dev.size()
        def offsets = []
        if (size <= fullReadLimit) {
            for (long off = 0; off < size; off += buf.length) offsets << off
        } else {
            def rnd = new Random(seed)
            offsets << 0L << Math.max(0L, size - buf.length)
            8.times { offsets << ((rnd.nextLong() & Long.MAX_VALUE) % size) }
        }
        for (long off : offsets) dev.read(off, buf, 0, (int) Math.min(buf.length, size - off))
    }


    /** qemu-img's stderr for {@code args} on a damaged file; asserts that it failed. */
    static String qemuRefusal(List<String> args) {
        def r = Qemu.img(args, false)
        assert r.exit != 0: "qemu-img ${args.join(' ')} accepted the image: $r"
        r.err
    }

    /** The guest bytes through our library (active layer or one snapshot), following backing files. */
    static byte[] ourRaw(Path f, String snapshot = null) {
        Qcow2Image.open(f, OpenOptions.permissive()).withCloseable { img ->
            BlockDevice dev = snapshot == null ? img : img.snapshot(snapshot)
            dev.read(0L, (int) dev.size())
        }
    }

    // ---- one image, field by field (instance use: new Damage(file)) ----

    final Path file

    Damage(Path file) { this.file = file }

    long u64(long at) { raf('r') { it.seek(at); it.readLong() } }
    long u32(long at) { raf('r') { it.seek(at); Integer.toUnsignedLong(it.readInt()) } }
    void put64(long at, long v) { raf('rw') { it.seek(at); it.writeLong(v) } }
    void put32(long at, long v) { raf('rw') { it.seek(at); it.writeInt((int) v) } }
    void put16(long at, int v) { raf('rw') { it.seek(at); it.writeShort(v) } }

    int clusterSize() { 1 << u32(CLUSTER_BITS) }
    long l1() { u64(L1_TABLE_OFFSET) }
    long reftable() { u64(REFCOUNT_TABLE_OFFSET) }
    long snapshots() { u64(SNAPSHOTS_OFFSET) }
    /** Host offset of the L2 table under L1 entry {@code i}. */
    long l2(int i = 0) { u64(l1() + 8 * i) & 0x00ff_ffff_ffff_fe00L }
    long refblock(int i = 0) { u64(reftable() + 8 * i) }
    void or64(long at, long bits) { put64(at, u64(at) | bits) }
    void add64(long at, long delta) { put64(at, u64(at) + delta) }

    /** Offset of the bitmap directory (from the bitmaps header extension). */
    long bitmapDirectory() {
        long at = u32(HEADER_LENGTH)
        while (true) {
            long type = u32(at), len = u32(at + 4)
            if (type == 0) throw new IllegalStateException('no bitmaps extension')
            if (type == 0x23852875L) return u64(at + 8 + 16)
            at += 8 + ((len + 7) & ~7L)
        }
    }

    /** Rewrites snapshot entry 0 with only {@code extra} bytes of extra data (id and name moved). */
    void shrinkSnapshotExtraData(int extra) {
        long so = snapshots()
        raf('rw') { RandomAccessFile f ->
            byte[] e = new byte[200]
            f.seek(so); f.read(e)
            def b = java.nio.ByteBuffer.wrap(e)
            int idLen = b.getShort(12) & 0xffff, nameLen = b.getShort(14) & 0xffff, old = b.getInt(36)
            byte[] names = Arrays.copyOfRange(e, 40 + old, 40 + old + idLen + nameLen)
            b.putInt(36, extra)
            System.arraycopy(names, 0, e, 40 + extra, names.length)
            f.seek(so); f.write(e, 0, 40 + extra + names.length)
        }
    }

    /** One snapshot table entry, as raw parts: the 40-byte header, extra data, id and name. */
    static class SnapshotEntryBytes {
        byte[] header
        byte[] extra
        byte[] id
        byte[] name
    }

    /**
     * Reads the snapshot table, lets {@code edit} change the entries, and writes them back in
     * place (sizes and nb_snapshots recomputed; the edited table must still fit its clusters).
     */
    void editSnapshots(Closure edit) {
        long so = snapshots()
        int nb = (int) u32(NB_SNAPSHOTS)
        List<SnapshotEntryBytes> entries = []
        raf('r') { RandomAccessFile f ->
            long off = so
            nb.times {
                off = (off + 7) & ~7L
                def e = new SnapshotEntryBytes(header: new byte[40])
                f.seek(off); f.readFully(e.header)
                def h = java.nio.ByteBuffer.wrap(e.header)
                e.extra = new byte[h.getInt(36)]; e.id = new byte[h.getShort(12) & 0xffff]; e.name = new byte[h.getShort(14) & 0xffff]
                f.readFully(e.extra); f.readFully(e.id); f.readFully(e.name)
                entries << e
                off += 40 + e.extra.length + e.id.length + e.name.length
            }
        }
        edit(entries)
        def out = new ByteArrayOutputStream()
        entries.each { SnapshotEntryBytes e ->
            while (out.size() % 8 != 0) out.write(0)
            def h = java.nio.ByteBuffer.wrap(e.header)
            h.putShort(12, (short) e.id.length).putShort(14, (short) e.name.length).putInt(36, e.extra.length)
            out.write(e.header); out.write(e.extra); out.write(e.id); out.write(e.name)
        }
        raf('rw') { RandomAccessFile f -> f.seek(so); f.write(out.toByteArray()) }
        put32(NB_SNAPSHOTS, entries.size())
    }

    private <T> T raf(String mode, Closure<T> c) {
        new RandomAccessFile(file.toFile(), mode).withCloseable { c(it) }
    }
}
