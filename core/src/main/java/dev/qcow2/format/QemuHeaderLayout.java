package dev.qcow2.format;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Where QEMU 7.2's qcow2_update_header puts things when it rewrites cluster 0 (image creation,
 * amend, changing the backing file): header_length 72 for version 2, else 112 plus the unknown
 * header fields kept; then the extensions in QEMU's order — backing format, external data file,
 * crypto header, feature-name table (version 3 with clusters over 4 KiB, QEMU's own table),
 * bitmaps, unknown extensions as found — the end marker, and the backing file name right after
 * it. The result goes to {@link Qcow2HeaderEncoder#encode}.
 */
public final class QemuHeaderLayout {
    /** QEMU's limit on the backing file name (1023 bytes: sizeof(bs->backing_file) - 1). */
    public static final int MAX_BACKING_FILE_NAME = 1023;

    private QemuHeaderLayout() { }

    /** What does not fit in cluster 0 (QEMU: ENOSPC from header_ext_add or for the name; EINVAL for a name over 1023 bytes). */
    public enum Overflow { EXTENSIONS, BACKING_FILE_NAME }

    /** The header does not fit in its first cluster. */
    public static final class NoRoomException extends Exception {
        private final Overflow overflow;

        NoRoomException(Overflow overflow) {
            super(overflow == Overflow.EXTENSIONS ? "Header extensions do not fit in the first cluster" : "Backing file name too long");
            this.overflow = overflow;
        }

        public Overflow overflow() { return overflow; }
    }

    /**
     * {@code fields} laid out as QEMU writes it.
     *
     * @param fields        every header field to write, its backing file name (null for none) and, in its
     *                      extensions, the crypto header, bitmaps and unknown extensions to keep (the last of
     *                      a repeated known type, as QEMU keeps); its layout fields are ignored
     * @param backingFormat the backing format extension's value, or null for none
     * @param dataFile      the external data file extension's value, or null for none
     */
    public static Qcow2Header layout(Qcow2Header fields, String backingFormat, String dataFile) throws NoRoomException {
        int version = fields.version();
        int clusterSize = fields.clusterSize();
        Qcow2Header.Builder out = fields.toBuilder();
        int headerLength;
        if (version >= 3) {
            byte[] unknown = fields.unknownHeaderFields() == null ? new byte[0] : fields.unknownHeaderFields();
            headerLength = Qcow2Header.V3_HEADER_LENGTH + unknown.length;
            out.unknownHeaderFields(unknown);
        } else {
            // Version 2 has no fields past 72; their implied values (qcow2.rst "Header").
            headerLength = Qcow2Header.V2_HEADER_LENGTH;
            out.unknownHeaderFields(new byte[0]).incompatibleFeatures(0).compatibleFeatures(0).autoclearFeatures(0)
                    .refcountOrder(4).compressionType(Qcow2Header.COMPRESSION_ZLIB);
        }
        out.headerLength(headerLength);

        List<HeaderExtension> order = new ArrayList<>();
        if (backingFormat != null) order.add(new HeaderExtension.BackingFormat(0, 0, backingFormat));
        if (dataFile != null) order.add(new HeaderExtension.ExternalDataFile(0, 0, dataFile));
        fields.extension(HeaderExtension.CryptoHeader.class).ifPresent(order::add);
        if (HeaderExtensionEncoder.writesFeatureNameTable(version, clusterSize)) {
            order.add(new HeaderExtension.FeatureNameTable(0, 0, HeaderExtensionEncoder.qemuFeatureNames()));
        }
        fields.extension(HeaderExtension.Bitmaps.class).ifPresent(order::add);
        for (HeaderExtension e : fields.extensions()) if (e instanceof HeaderExtension.Unknown) order.add(e);

        List<HeaderExtension> placed = new ArrayList<>();
        long pos = headerLength;
        for (HeaderExtension e : order) {
            int length = HeaderExtensionEncoder.data(e).length;
            long next = pos + 8 + ((length + 7) & ~7);
            // header_ext_add: the extension and the end marker after it must fit.
            if (next + HeaderExtensionEncoder.END_MARKER_LENGTH > clusterSize) throw new NoRoomException(Overflow.EXTENSIONS);
            placed.add(at(e, pos, length));
            pos = next;
        }
        pos += HeaderExtensionEncoder.END_MARKER_LENGTH;
        out.extensions(placed);

        String name = fields.backingFileName();
        if (name == null) {
            out.backingFileOffset(0).backingFileSize(0);
        } else {
            int length = name.getBytes(StandardCharsets.UTF_8).length;
            if (length > MAX_BACKING_FILE_NAME || clusterSize - pos < length) throw new NoRoomException(Overflow.BACKING_FILE_NAME);
            out.backingFileOffset(pos).backingFileSize(length);
        }
        return out.build();
    }

    /** {@code e} as placed at {@code offset} with its data {@code length}. */
    private static HeaderExtension at(HeaderExtension e, long offset, int length) {
        return switch (e) {
            case HeaderExtension.BackingFormat f -> new HeaderExtension.BackingFormat(offset, length, f.format());
            case HeaderExtension.ExternalDataFile f -> new HeaderExtension.ExternalDataFile(offset, length, f.fileName());
            case HeaderExtension.CryptoHeader c -> new HeaderExtension.CryptoHeader(offset, length, c.headerOffset(), c.headerLength());
            case HeaderExtension.FeatureNameTable t -> new HeaderExtension.FeatureNameTable(offset, length, t.names());
            case HeaderExtension.Bitmaps b -> new HeaderExtension.Bitmaps(offset, length, b.nbBitmaps(), b.reserved(),
                    b.directorySize(), b.directoryOffset());
            case HeaderExtension.Unknown u -> new HeaderExtension.Unknown(offset, u.type(), u.data());
        };
    }
}
