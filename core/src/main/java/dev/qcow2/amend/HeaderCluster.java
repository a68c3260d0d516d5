package dev.qcow2.amend;

import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.HeaderExtension;
import dev.qcow2.format.Qcow2Header;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The first cluster rewritten as QEMU 7.2's qcow2_update_header does it: the header (v2: 72
 * bytes; v3: 112 plus unknown fields kept), then the extensions in QEMU's order (backing format,
 * external data file, feature-name table on v3 when clusters exceed 4 KiB, unknown extensions
 * kept verbatim), the end marker and the backing file name.
 *
 * <p>Crash safety: everything else is flushed first; then only the bytes up to the last one
 * that changes are written, in one write, and flushed. For the usual header (everything
 * within 512 bytes) that is one sector, which real disks write atomically.
 */
final class HeaderCluster {
    static final int EXT_BACKING_FORMAT = 0xe2792aca;
    static final int EXT_FEATURE_TABLE = 0x6803f857;
    static final int EXT_DATA_FILE = 0x44415441;

    /** QEMU 7.2's feature-name table: {type, bit, name}. */
    private static final Object[][] FEATURES = {
            {0, 0, "dirty bit"}, {0, 1, "corrupt bit"}, {0, 2, "external data file"}, {0, 3, "compression type"},
            {0, 4, "extended L2 entries"}, {1, 0, "lazy refcounts"}, {2, 0, "bitmaps"}, {2, 1, "raw external data"},
    };

    /** The header fields amend changes; the rest comes from the current header. */
    record State(int version, long incompatible, long compatible, long autoclear, int refcountOrder,
                 int compressionType, String backingFile, String backingFormat, String dataFile) {
        static State of(Qcow2Header h) {
            return new State(h.version(), h.incompatibleFeatures(), h.compatibleFeatures(), h.autoclearFeatures(),
                    h.refcountOrder(), h.compressionType(), h.backingFileName(), h.backingFormat().orElse(null),
                    h.externalDataFile().orElse(null));
        }

        State version(int v) { return new State(v, incompatible, compatible, autoclear, refcountOrder, compressionType, backingFile, backingFormat, dataFile); }

        State features(long inc, long comp, long auto) { return new State(version, inc, comp, auto, refcountOrder, compressionType, backingFile, backingFormat, dataFile); }

        State compression(int type) { return new State(version, incompatible, compatible, autoclear, refcountOrder, type, backingFile, backingFormat, dataFile); }

        State dataFile(String name) { return new State(version, incompatible, compatible, autoclear, refcountOrder, compressionType, backingFile, backingFormat, name); }
    }

    private HeaderCluster() { }

    static byte[] encode(Qcow2Header h, State s) {
        int cs = h.clusterSize();
        ByteBuffer b = ByteBuffer.allocate(cs);
        b.putInt(0, Qcow2Header.MAGIC);
        b.putInt(4, s.version());
        b.putInt(20, h.clusterBits());
        b.putLong(24, h.size());
        b.putInt(32, h.cryptMethod());
        b.putInt(36, (int) h.l1Size());
        b.putLong(40, h.l1TableOffset());
        b.putLong(48, h.refcountTableOffset());
        b.putInt(56, (int) h.refcountTableClusters());
        b.putInt(60, (int) h.nbSnapshots());
        b.putLong(64, h.snapshotsOffset());
        int headerLength = Qcow2Header.V2_HEADER_LENGTH;
        if (s.version() >= 3) {
            byte[] unknown = h.version() >= 3 && h.unknownHeaderFields() != null ? h.unknownHeaderFields() : new byte[0];
            headerLength = Qcow2Header.V3_HEADER_LENGTH + unknown.length;
            b.putLong(72, s.incompatible());
            b.putLong(80, s.compatible());
            b.putLong(88, s.autoclear());
            b.putInt(96, s.refcountOrder());
            b.putInt(100, headerLength);
            b.put(104, (byte) s.compressionType());
            b.put(Qcow2Header.V3_HEADER_LENGTH, unknown);
        }
        b.position(headerLength);
        if (s.backingFormat() != null) extension(b, EXT_BACKING_FORMAT, utf8(s.backingFormat()));
        if (s.dataFile() != null) extension(b, EXT_DATA_FILE, utf8(s.dataFile()));
        if (s.version() >= 3 && cs > 4096) extension(b, EXT_FEATURE_TABLE, featureTable());
        for (HeaderExtension e : h.extensions()) {
            if (e instanceof HeaderExtension.Unknown u) extension(b, u.type(), u.data());
        }
        b.putLong(0);
        if (s.backingFile() != null) {
            byte[] name = utf8(s.backingFile());
            if (name.length > 1023 || b.remaining() < name.length) throw new IllegalArgumentException("Backing file name too long");
            b.putLong(8, b.position());
            b.putInt(16, name.length);
            b.put(name);
        }
        return b.array();
    }

    /** Writes the header for {@code s} over the current one (see the class comment for the order). */
    static void write(SyncedStorage storage, Qcow2Header h, State s) throws IOException {
        byte[] fresh = encode(h, s);
        byte[] old = storage.read(0, fresh.length);
        int last = fresh.length - 1;
        while (last >= 0 && fresh[last] == old[last]) last--;
        if (last < 0) return;
        storage.barrier();
        storage.write(0, fresh, 0, last + 1);
        storage.flush();
    }

    private static void extension(ByteBuffer b, int magic, byte[] data) {
        int padded = (data.length + 7) & ~7;
        if (b.remaining() < 8 + padded + 8) throw new IllegalArgumentException("Header extensions do not fit in the first cluster");
        b.putInt(magic).putInt(data.length).put(data);
        b.position(b.position() + padded - data.length);
    }

    private static byte[] featureTable() {
        ByteBuffer t = ByteBuffer.allocate(FEATURES.length * 48);
        for (Object[] f : FEATURES) {
            int start = t.position();
            t.put((byte) (int) (Integer) f[0]).put((byte) (int) (Integer) f[1]).put(utf8((String) f[2]));
            t.position(start + 48);
        }
        return t.array();
    }

    private static byte[] utf8(String s) { return s.getBytes(StandardCharsets.UTF_8); }
}
