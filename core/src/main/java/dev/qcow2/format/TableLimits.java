package dev.qcow2.format;

import dev.qcow2.CorruptImageException;
import dev.qcow2.ImageLimitException;

/** QEMU's {@code qcow2_validate_table}: a table's size and offset checked before any use. */
public final class TableLimits {
    private TableLimits() { }

    /**
     * @param entries   entry count from the header
     * @param entrySize bytes per entry
     * @param maxBytes  the format's limit for the whole table
     */
    public static void validate(String resource, String table, long offset, long entries, long entrySize,
                                long maxBytes, int clusterSize) throws ImageLimitException, CorruptImageException {
        if (entries > maxBytes / entrySize) {
            throw new ImageLimitException(resource, table + " too large");
        }
        long bytes = entries * entrySize;
        if (offset < 0 || Long.MAX_VALUE - bytes < offset || (offset & (clusterSize - 1)) != 0) {
            throw new CorruptImageException(resource, table, -1, offset, table + " offset invalid");
        }
    }

    /** Refuses a table that does not lie inside the file, before it is read into memory. */
    public static void requireInsideFile(String resource, String table, long offset, long bytes, long fileSize)
            throws CorruptImageException {
        if (offset < 0 || bytes < 0 || offset > fileSize || bytes > fileSize - offset) {
            throw new CorruptImageException(resource, table, offset, null,
                    "table of " + bytes + " bytes extends past the end of the file (" + fileSize + " bytes)");
        }
    }
}
