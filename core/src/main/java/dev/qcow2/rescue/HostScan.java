package dev.qcow2.rescue;

import dev.qcow2.format.L2Entry;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.storage.Storage;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One pass over every host cluster of a damaged file, classifying each by its content alone
 * (bounded memory: one byte per host cluster). A table candidate is a cluster whose every
 * 8-byte entry is a valid L2 descriptor (qcow2.rst "Cluster mapping": no reserved bits, normal
 * offsets cluster-aligned inside the file and past the header, compressed streams inside the
 * file) with at least one entry set; L1 tables pass the same test (an L1 entry has the shape of
 * a normal L2 entry), and are told apart later by pointing at table candidates. A refcount
 * block candidate holds only small 16-bit counts (refcount_order 4, QEMU's default).
 */
final class HostScan {
    static final byte ZERO = 0, DATA = 1, TABLE = 2, REFBLOCK = 3, HEADER = 4, LUKS = 5;
    /** "LUKS\xba\xbe" (LUKS1 on-disk format: the magic of a LUKS header, at the start of the qcow2 LUKS area). */
    private static final long LUKS_MAGIC = 0x4c554b53babeL;

    final ClusterGeometry geo;
    final long fileSize;
    final byte[] kind;

    private HostScan(ClusterGeometry geo, long fileSize, byte[] kind) {
        this.geo = geo;
        this.fileSize = fileSize;
        this.kind = kind;
    }

    int clusters() { return kind.length; }

    long hostOffset(int cluster) { return (long) cluster << geo.clusterBits(); }

    static HostScan scan(Storage in, ClusterGeometry geo) throws IOException { return scan(in, geo, -1); }

    /** {@code externalDataSize}: the size of the external data file normal entries point into, or -1 (none). */
    static HostScan scan(Storage in, ClusterGeometry geo, long externalDataSize) throws IOException {
        long size = in.size();
        long n = (size + geo.clusterSize() - 1) >>> geo.clusterBits();
        if (n > Integer.MAX_VALUE - 8) {
            throw new dev.qcow2.ImageLimitException(in.describe(), "too many clusters to scan at cluster size " + geo.clusterSize());
        }
        byte[] kind = new byte[(int) n];
        ByteBuffer buf = ByteBuffer.allocate(geo.clusterSize());
        for (int c = 0; c < n; c++) {
            readCluster(in, (long) c << geo.clusterBits(), size, buf);
            kind[c] = classify(buf, geo, size, c == 0, externalDataSize);
            if (kind[c] == DATA && luksMagic(buf)) kind[c] = LUKS;
        }
        return new HostScan(geo, size, kind);
    }

    static void readCluster(Storage in, long offset, long fileSize, ByteBuffer buf) throws IOException {
        buf.clear();
        int len = (int) Math.min(buf.capacity(), fileSize - offset);
        buf.limit(len);
        in.readFully(offset, buf);
        buf.limit(buf.capacity());
        for (int i = len; i < buf.capacity(); i++) buf.put(i, (byte) 0);
        buf.rewind();
    }

    static byte classify(ByteBuffer b, ClusterGeometry geo, long fileSize, boolean first) { return classify(b, geo, fileSize, first, -1); }

    static byte classify(ByteBuffer b, ClusterGeometry geo, long fileSize, boolean first, long externalDataSize) {
        if (first && b.getInt(0) == Qcow2Header.MAGIC) return HEADER;
        if (allZero(b)) return ZERO;
        if (tableShaped(b, geo, fileSize, externalDataSize)) return TABLE;
        if (refblockShaped(b)) return REFBLOCK;
        return DATA;
    }

    /** Whether {@code b} starts with a LUKS1 header's magic and version 1. */
    static boolean luksMagic(ByteBuffer b) { return b.capacity() >= 8 && b.getLong(0) >>> 16 == LUKS_MAGIC && b.getShort(6) == 1; }

    static boolean allZero(ByteBuffer b) {
        for (int i = 0; i + 8 <= b.capacity(); i += 8) if (b.getLong(i) != 0) return false;
        return true;
    }

    /** Every entry a valid descriptor for {@code geo} inside a file of {@code fileSize} bytes, one at least set. */
    static boolean tableShaped(ByteBuffer b, ClusterGeometry geo, long fileSize) { return tableShaped(b, geo, fileSize, -1); }

    /** With an external data file of {@code externalDataSize} bytes (else -1), normal entries point into it (offset 0 included, with OFLAG_COPIED). */
    static boolean tableShaped(ByteBuffer b, ClusterGeometry geo, long fileSize, long externalDataSize) {
        int step = geo.l2EntrySize();
        int set = 0;
        for (int i = 0; i + step <= b.capacity(); i += step) {
            long raw = b.getLong(i);
            long bitmap = geo.extendedL2() ? b.getLong(i + 8) : 0;
            if (raw == 0 && bitmap == 0) continue;
            if (!plausible(L2Entry.decode(raw, bitmap, geo, externalDataSize >= 0), geo, fileSize, externalDataSize)) return false;
            set++;
        }
        return set > 0;
    }

    static boolean plausible(L2Entry e, ClusterGeometry geo, long fileSize) { return plausible(e, geo, fileSize, -1); }

    static boolean plausible(L2Entry e, ClusterGeometry geo, long fileSize, long externalDataSize) {
        long mask = geo.clusterSize() - 1L;
        if (externalDataSize >= 0 && e instanceof L2Entry.Normal n) {
            return n.reservedBits() == 0 && (n.hostOffset() & mask) == 0 && n.hostOffset() < externalDataSize
                    && (n.bitmap() & (n.bitmap() >>> 32)) == 0;
        }
        return switch (e) {
            case L2Entry.Unallocated u -> u.reservedBits() == 0 && (!geo.extendedL2() || (u.bitmap() & (u.bitmap() >>> 32)) == 0);
            case L2Entry.Zero z -> z.reservedBits() == 0 && (z.hostOffset() & mask) == 0 && z.hostOffset() < Math.max(fileSize, externalDataSize);
            case L2Entry.Normal n -> n.reservedBits() == 0 && (n.hostOffset() & mask) == 0 && n.hostOffset() >= geo.clusterSize()
                    && n.hostOffset() < fileSize && (n.bitmap() & (n.bitmap() >>> 32)) == 0;
            case L2Entry.Compressed c -> c.hostOffset() >= geo.clusterSize() && c.lastHostByte() < fileSize + 512;
        };
    }

    /** Only 16-bit big-endian counts of at most 0xff, one at least set (refcount blocks of refcount_order 4). */
    static boolean refblockShaped(ByteBuffer b) {
        int set = 0;
        for (int i = 0; i + 2 <= b.capacity(); i += 2) {
            int v = b.getShort(i) & 0xffff;
            if (v > 0xff) return false;
            if (v != 0) set++;
        }
        return set > 0;
    }
}
