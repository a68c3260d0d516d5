package dev.qcow2.format;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A header extension (qcow2.rst "Header extensions"): {@code u32 type, u32 length, data,
 * padding to 8}. Unknown types are kept verbatim so a rewrite can preserve them.
 */
public sealed interface HeaderExtension {

    int BACKING_FORMAT = 0xE2792ACA;
    int FEATURE_NAME_TABLE = 0x6803F857;
    int BITMAPS = 0x23852875;
    int CRYPTO_HEADER = 0x0537BE77;
    int EXTERNAL_DATA_FILE = 0x44415441;

    /** The extension's type magic. */
    int type();

    /** Host offset of the extension's 8-byte type/length header in cluster 0. */
    long offset();

    /** The data length recorded in the extension header. */
    int length();

    /** Short name used by {@code dump extensions}. */
    String name();

    /** 0xE2792ACA: the backing file's format name, e.g. "qcow2" or "raw". */
    record BackingFormat(long offset, int length, String format) implements HeaderExtension {
        public int type() { return BACKING_FORMAT; }
        public String name() { return "backing-format"; }
    }

    /** 0x6803F857: names for feature bits, 48 bytes an entry. */
    record FeatureNameTable(long offset, int length, List<FeatureName> names) implements HeaderExtension {
        public int type() { return FEATURE_NAME_TABLE; }
        public String name() { return "feature-name-table"; }
    }

    /** One feature-table entry: type 0 incompatible, 1 compatible, 2 autoclear; bit 0..63. */
    record FeatureName(int featureType, int bit, String name) { }

    /** 0x23852875: where the bitmap directory is. */
    record Bitmaps(long offset, int length, long nbBitmaps, long reserved, long directorySize,
                   long directoryOffset) implements HeaderExtension {
        public int type() { return BITMAPS; }
        public String name() { return "bitmaps"; }
    }

    /** 0x0537BE77: the full-disk-encryption header area (LUKS). */
    record CryptoHeader(long offset, int length, long headerOffset, long headerLength) implements HeaderExtension {
        public int type() { return CRYPTO_HEADER; }
        public String name() { return "crypto-header"; }
    }

    /** 0x44415441 ("DATA"): the external data file's name. */
    record ExternalDataFile(long offset, int length, String fileName) implements HeaderExtension {
        public int type() { return EXTERNAL_DATA_FILE; }
        public String name() { return "external-data-file"; }
    }

    /** Any other type, kept byte for byte. */
    record Unknown(long offset, int type, byte[] data) implements HeaderExtension {
        public int length() { return data.length; }
        public String name() { return "unknown-0x" + Integer.toHexString(type); }

        /** Equal when offset, type and the data bytes are. */
        @Override
        public boolean equals(Object o) {
            return o instanceof Unknown u && offset == u.offset && type == u.type && java.util.Arrays.equals(data, u.data);
        }

        @Override
        public int hashCode() { return java.util.Objects.hash(offset, type, java.util.Arrays.hashCode(data)); }
    }

    static String ascii(byte[] data) {
        return new String(data, StandardCharsets.UTF_8);
    }
}
