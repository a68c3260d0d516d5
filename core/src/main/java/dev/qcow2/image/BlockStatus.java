package dev.qcow2.image;

/**
 * One layer's answer for a guest range, in QEMU's block-status terms.
 *
 * @param data       BDRV_BLOCK_DATA: a normal or compressed (sub)cluster
 * @param zero       BDRV_BLOCK_ZERO: reads as zeros (zero flag, or past the end of the chain)
 * @param allocated  BDRV_BLOCK_ALLOCATED: this layer decides the content (data or zero)
 * @param compressed BDRV_BLOCK_COMPRESSED
 * @param hostOffset BDRV_BLOCK_OFFSET_VALID: the host offset in the data file, or -1
 */
public record BlockStatus(long guestOffset, long length, boolean data, boolean zero, boolean allocated,
                          boolean compressed, long hostOffset) {
}
