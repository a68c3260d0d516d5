package dev.qcow2.format;

import dev.qcow2.CorruptImageException;
import dev.qcow2.ImageLimitException;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the header extensions between header_length and the backing file name (or the end
 * of cluster 0), following QEMU's {@code qcow2_read_extensions} checks and messages.
 */
final class HeaderExtensionReader {
    private HeaderExtensionReader() { }

    static final int MAX_BITMAPS = 65535;                    // QCOW2_MAX_BITMAPS
    static final long MAX_BITMAP_DIRECTORY_SIZE = 1024L * MAX_BITMAPS;
    private static final int BACKING_FORMAT_MAX = 16;        // sizeof(bs->backing_format)
    private static final int FEATURE_ENTRY_SIZE = HeaderExtensionEncoder.FEATURE_ENTRY_SIZE;

    /**
     * @param cluster0 the whole first cluster, zero-filled past the end of the file (as QEMU reads it)
     * @param end      where the extension area ends: the backing file name, else the cluster end
     */
    static List<HeaderExtension> read(String res, ByteBuffer cluster0, int start, int end,
                                      int clusterSize, long autoclear) throws CorruptImageException, ImageLimitException {
        List<HeaderExtension> out = new ArrayList<>();
        long offset = start;
        while (offset < end) {
            if (offset + 8 > end) {
                throw new CorruptImageException(res, "header extension", offset, null, "Header extension too large");
            }
            int type = cluster0.getInt((int) offset);
            long length = Integer.toUnsignedLong(cluster0.getInt((int) offset + 4));
            long extOffset = offset;
            offset += 8;
            if (offset > end || length > end - offset) {
                throw new CorruptImageException(res, "header extension", extOffset, (long) type, "Header extension too large");
            }
            if (type == 0) return out;
            byte[] data = new byte[(int) length];
            cluster0.get((int) offset, data);
            // A repeated type is accepted, as QEMU does (the spec allows one of each; the last wins).
            out.add(decode(res, extOffset, type, data, autoclear, clusterSize));
            offset += (length + 7) & ~7L;
        }
        return out;
    }

    private static HeaderExtension decode(String res, long at, int type, byte[] data, long autoclear, int clusterSize)
            throws CorruptImageException, ImageLimitException {
        ByteBuffer b = ByteBuffer.wrap(data);
        switch (type) {
            case HeaderExtension.BACKING_FORMAT:
                if (data.length >= BACKING_FORMAT_MAX) {
                    throw new CorruptImageException(res, "backing format extension", at, (long) data.length,
                            "ERROR: ext_backing_format: len=" + data.length + " too large (>=" + BACKING_FORMAT_MAX + ")");
                }
                return new HeaderExtension.BackingFormat(at, data.length, HeaderExtension.ascii(data));
            case HeaderExtension.FEATURE_NAME_TABLE: {
                List<HeaderExtension.FeatureName> names = new ArrayList<>();
                for (int i = 0; i + FEATURE_ENTRY_SIZE <= data.length; i += FEATURE_ENTRY_SIZE) {
                    int len = 0;
                    while (len < 46 && data[i + 2 + len] != 0) len++;
                    names.add(new HeaderExtension.FeatureName(Byte.toUnsignedInt(data[i]), Byte.toUnsignedInt(data[i + 1]),
                            new String(data, i + 2, len, StandardCharsets.UTF_8)));
                }
                return new HeaderExtension.FeatureNameTable(at, data.length, List.copyOf(names));
            }
            case HeaderExtension.CRYPTO_HEADER:
                if (data.length != 16) {
                    throw new CorruptImageException(res, "crypto header extension", at, (long) data.length,
                            "CRYPTO header extension size " + data.length + ", but expected size 16");
                }
                return new HeaderExtension.CryptoHeader(at, data.length, b.getLong(0), b.getLong(8));
            case HeaderExtension.BITMAPS: {
                if (data.length != 24) {
                    throw new CorruptImageException(res, "bitmaps extension", at, (long) data.length,
                            "bitmaps_ext: Invalid extension length");
                }
                long nb = Integer.toUnsignedLong(b.getInt(0));
                long reserved = Integer.toUnsignedLong(b.getInt(4));
                long dirSize = b.getLong(8);
                long dirOffset = b.getLong(16);
                // Without the autoclear bit the bitmaps are merely inconsistent: QEMU warns and ignores them.
                if ((autoclear & FeatureBits.AUTOCLEAR_BITMAPS) != 0) {
                    if (reserved != 0) {
                        throw new CorruptImageException(res, "bitmaps extension", at, reserved, "bitmaps_ext: Reserved field is not zero");
                    }
                    if (nb > MAX_BITMAPS) {
                        throw new ImageLimitException(res, "bitmaps_ext: Image has " + nb + " bitmaps, exceeding the QEMU supported maximum of " + MAX_BITMAPS);
                    }
                    if (nb == 0) {
                        throw new CorruptImageException(res, "bitmaps extension", at, nb, "found bitmaps extension with zero bitmaps");
                    }
                    if ((dirOffset & (clusterSize - 1)) != 0) {
                        throw new CorruptImageException(res, "bitmaps extension", at, dirOffset, "bitmaps_ext: invalid bitmap directory offset");
                    }
                    if (dirSize < 0 || dirSize > MAX_BITMAP_DIRECTORY_SIZE) {
                        throw new ImageLimitException(res, "bitmaps_ext: bitmap directory size (" + Long.toUnsignedString(dirSize)
                                + ") exceeds the maximum supported size (" + MAX_BITMAP_DIRECTORY_SIZE + ")");
                    }
                }
                return new HeaderExtension.Bitmaps(at, data.length, nb, reserved, dirSize, dirOffset);
            }
            case HeaderExtension.EXTERNAL_DATA_FILE:
                return new HeaderExtension.ExternalDataFile(at, data.length, HeaderExtension.ascii(data));
            default:
                return new HeaderExtension.Unknown(at, type, data);
        }
    }
}
