package dev.qcow2.check

import java.nio.file.Path

/** Reads and overwrites big-endian fields of an image at known offsets (found from its own header). */
class Damage {
    final Path file

    Damage(Path file) { this.file = file }

    long u64(long at) { raf('r') { it.seek(at); it.readLong() } }
    long u32(long at) { raf('r') { it.seek(at); Integer.toUnsignedLong(it.readInt()) } }
    void put64(long at, long v) { raf('rw') { it.seek(at); it.writeLong(v) } }
    void put32(long at, long v) { raf('rw') { it.seek(at); it.writeInt((int) v) } }
    void put16(long at, int v) { raf('rw') { it.seek(at); it.writeShort(v) } }

    int clusterSize() { 1 << u32(20) }
    long l1() { u64(40) }
    long reftable() { u64(48) }
    long snapshots() { u64(64) }
    /** Host offset of the L2 table under L1 entry {@code i}. */
    long l2(int i = 0) { u64(l1() + 8 * i) & 0x00ff_ffff_ffff_fe00L }
    long refblock(int i = 0) { u64(reftable() + 8 * i) }
    void or64(long at, long bits) { put64(at, u64(at) | bits) }
    void add64(long at, long delta) { put64(at, u64(at) + delta) }

    /** Offset of the bitmap directory (from the bitmaps header extension). */
    long bitmapDirectory() {
        long at = u32(100)
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
        int nb = (int) u32(60)
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
        put32(60, entries.size())
    }

    private <T> T raf(String mode, Closure<T> c) {
        new RandomAccessFile(file.toFile(), mode).withCloseable { c(it) }
    }
}
