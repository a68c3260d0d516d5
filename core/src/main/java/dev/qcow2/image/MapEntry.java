package dev.qcow2.image;

/**
 * One range of qemu-img map's output (QEMU's MapEntry): what the chain answers for guest bytes
 * [start, start+length).
 *
 * @param depth      0 = top; the layer that answered (the bottom layer's index when nothing is allocated)
 * @param present    BDRV_BLOCK_ALLOCATED in the answering layer (data or zero written there)
 * @param zero       reads as zeros
 * @param data       a normal or compressed (sub)cluster, or raw file data
 * @param compressed a compressed cluster
 * @param offset     host offset in {@code filename}, or -1 when the layer gives none
 * @param filename   the host file the offset refers to, or null without an offset
 */
public record MapEntry(long start, long length, int depth, boolean present, boolean zero, boolean data,
                       boolean compressed, long offset, String filename) {

    public boolean hasOffset() { return offset >= 0; }

    public long end() { return start + length; }

    /** QEMU's entry_mergeable: same flags, depth and file, and contiguous host offsets. */
    public boolean mergeableWith(MapEntry next) {
        if (length == 0) return false;
        if (zero != next.zero || data != next.data || compressed != next.compressed
                || depth != next.depth || present != next.present) return false;
        if (hasOffset() != next.hasOffset()) return false;
        if (!hasOffset()) return true;
        return java.util.Objects.equals(filename, next.filename) && offset + length == next.offset;
    }

    public MapEntry extendedBy(long more) {
        return new MapEntry(start, length + more, depth, present, zero, data, compressed, offset, filename);
    }
}
