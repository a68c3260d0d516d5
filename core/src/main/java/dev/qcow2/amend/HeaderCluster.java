package dev.qcow2.amend;

import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.HeaderExtension;
import dev.qcow2.format.HeaderExtensionEncoder;
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
        if (s.backingFormat() != null) extension(b, HeaderExtension.BACKING_FORMAT, utf8(s.backingFormat()));
        if (s.dataFile() != null) extension(b, HeaderExtension.EXTERNAL_DATA_FILE, utf8(s.dataFile()));
        if (HeaderExtensionEncoder.writesFeatureNameTable(s.version(), cs)) {
            extension(b, HeaderExtension.FEATURE_NAME_TABLE, HeaderExtensionEncoder.qemuFeatureNameTable());
        }
        for (HeaderExtension e : h.extensions()) {
            if (e instanceof HeaderExtension.Unknown u) extension(b, u.type(), u.data());
        }
        HeaderExtensionEncoder.putEndMarker(b);
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

    private static void extension(ByteBuffer b, int type, byte[] data) {
        if (!HeaderExtensionEncoder.put(b, type, data)) throw new IllegalArgumentException("Header extensions do not fit in the first cluster");
    }

    private static byte[] utf8(String s) { return s.getBytes(StandardCharsets.UTF_8); }
}
