package dev.qcow2.format;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Cluster 0 from a {@link Qcow2Header}: the exact inverse of {@link Qcow2Header#read}. The
 * fields of {@link HeaderField} that the version and header_length carry, the unknown header
 * bytes at 112 verbatim, the extensions in list order from header_length on (each padded to 8,
 * unknown ones byte for byte) and the end marker, then the backing file name at
 * backing_file_offset; zeros everywhere else, as QEMU's qcow2_update_header leaves them.
 *
 * <p>The encoder places nothing itself: header_length, the extension offsets and the backing
 * file offset are the header's own. {@link QemuHeaderLayout} computes them the way QEMU lays
 * out a header it writes. Every header written by this library goes through
 * {@link #encode}; single fields are updated in place through {@link HeaderField#patch}.
 */
public final class Qcow2HeaderEncoder {
    private Qcow2HeaderEncoder() { }

    /**
     * The whole first cluster for {@code h}.
     *
     * @throws IllegalArgumentException when {@code h} is not encodable as given: a field does not
     *                                  fit its width, the unknown fields do not match header_length, the extensions do
     *                                  not fit before the backing file name (or the cluster end), or the name does not
     *                                  fit at backing_file_offset
     */
    public static byte[] encode(Qcow2Header h) {
        int clusterSize = h.clusterSize();
        ByteBuffer b = ByteBuffer.allocate(clusterSize);   // big-endian, as every qcow2 field
        for (HeaderField f : HeaderField.presentFields(h.version(), h.headerLength())) f.put(b, f.of(h));
        int extensionsStart = h.version() >= 3 ? h.headerLength() : Qcow2Header.V2_HEADER_LENGTH;
        byte[] unknown = h.unknownHeaderFields() == null ? new byte[0] : h.unknownHeaderFields();
        int unknownExpected = h.version() >= 3 ? Math.max(0, h.headerLength() - Qcow2Header.V3_HEADER_LENGTH) : 0;
        if (unknown.length != unknownExpected) {
            throw new IllegalArgumentException("header_length " + h.headerLength() + " does not match "
                    + unknown.length + " unknown header bytes");
        }
        if (extensionsStart > clusterSize) throw new IllegalArgumentException("qcow2 header exceeds cluster size");
        b.put(Qcow2Header.V3_HEADER_LENGTH, unknown);

        // The reader takes extensions up to the backing file name, else to the cluster end.
        long extensionsEnd = h.backingFileOffset() != 0 ? h.backingFileOffset() : clusterSize;
        if (extensionsEnd < extensionsStart || extensionsEnd > clusterSize) {
            throw new IllegalArgumentException("Invalid backing file offset " + h.backingFileOffset());
        }
        b.position(extensionsStart).limit((int) extensionsEnd);
        for (HeaderExtension e : h.extensions()) {
            if (!HeaderExtensionEncoder.put(b, e)) {
                throw new IllegalArgumentException("Header extensions do not fit in the first cluster");
            }
        }
        if (b.remaining() >= HeaderExtensionEncoder.END_MARKER_LENGTH) {
            HeaderExtensionEncoder.putEndMarker(b);
        } else if (b.remaining() > 0) {
            throw new IllegalArgumentException("No room for the end of the header extensions");
        }
        b.limit(clusterSize);

        if (h.backingFileName() != null) {
            byte[] name = h.backingFileName().getBytes(StandardCharsets.UTF_8);
            if (h.backingFileOffset() == 0 || name.length > h.backingFileSize() || h.backingFileOffset() + h.backingFileSize() > clusterSize) {
                throw new IllegalArgumentException("Backing file name too long");
            }
            b.put((int) h.backingFileOffset(), name);
        }
        return b.array();
    }
}
