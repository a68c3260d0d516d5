package dev.qcow2.format;

/**
 * One internal snapshot table entry (qcow2.rst "Snapshots"). Starts on an 8-byte boundary.
 *
 * @param entryOffset      host offset of this entry
 * @param l1TableOffset    bytes 0-7: the snapshot's L1 table (cluster-aligned)
 * @param l1Size           bytes 8-11: entries in that L1 table
 * @param dateSec          bytes 16-19
 * @param dateNsec         bytes 20-23
 * @param vmClockNsec      bytes 24-31: guest run time in ns
 * @param vmStateSize      bytes 32-35, or extra data bytes 0-7 when present (64-bit)
 * @param extraDataSize    bytes 36-39
 * @param diskSize         extra data bytes 8-15, else the image's current virtual size
 * @param icount           extra data bytes 16-23, else -1 (icount disabled)
 * @param unknownExtraData extra data past byte 24, kept verbatim
 * @param length           bytes of this entry, including id, name; excluding padding
 */
public record SnapshotEntry(
        long entryOffset,
        long l1TableOffset,
        long l1Size,
        String id,
        String name,
        long dateSec,
        long dateNsec,
        long vmClockNsec,
        long vmStateSize,
        long extraDataSize,
        long diskSize,
        boolean hasDiskSize,
        long icount,
        byte[] unknownExtraData,
        long length) {

    public static final int HEADER_SIZE = 40;
    public static final int MAX_EXTRA_DATA = 1024; // QCOW_MAX_SNAPSHOT_EXTRA_DATA
    /** v3 images must have extra data up to and including disk_size. */
    public static final int V3_MIN_EXTRA_DATA = 16;

    /** Equal when every component is: the unknown extra data by content. */
    @Override
    public boolean equals(Object o) {
        return o instanceof SnapshotEntry e && entryOffset == e.entryOffset && l1TableOffset == e.l1TableOffset
                && l1Size == e.l1Size && java.util.Objects.equals(id, e.id) && java.util.Objects.equals(name, e.name)
                && dateSec == e.dateSec && dateNsec == e.dateNsec && vmClockNsec == e.vmClockNsec
                && vmStateSize == e.vmStateSize && extraDataSize == e.extraDataSize && diskSize == e.diskSize
                && hasDiskSize == e.hasDiskSize && icount == e.icount
                && java.util.Arrays.equals(unknownExtraData, e.unknownExtraData) && length == e.length;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(entryOffset, l1TableOffset, id, name, java.util.Arrays.hashCode(unknownExtraData));
    }
}
