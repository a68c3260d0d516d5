package dev.qcow2.amend;

import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.QemuHeaderLayout;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.format.Qcow2HeaderEncoder;

import java.io.IOException;

/**
 * The first cluster rewritten as QEMU 7.2's qcow2_update_header does it: the amended fields laid
 * out by {@link QemuHeaderLayout} (v2: 72 bytes; v3: 112 plus unknown fields kept; extensions in
 * QEMU's order, unknown ones kept verbatim; the end marker and the backing file name) and
 * encoded by the one header encoder, {@link Qcow2HeaderEncoder}.
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
        Qcow2Header fields = h.toBuilder()
                .version(s.version())
                .incompatibleFeatures(s.incompatible())
                .compatibleFeatures(s.compatible())
                .autoclearFeatures(s.autoclear())
                .refcountOrder(s.refcountOrder())
                .compressionType(s.compressionType())
                .backingFileName(s.backingFile())
                .build();
        try {
            return Qcow2HeaderEncoder.encode(QemuHeaderLayout.layout(fields, s.backingFormat(), s.dataFile()));
        } catch (QemuHeaderLayout.NoRoomException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
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
}
