package dev.qcow2.codec;

import dev.qcow2.format.CompressionType;

/**
 * Decompresses one compressed cluster. The input may carry trailing bytes of the next
 * compressed cluster (they share the last 512-byte sector): decoding stops once the output
 * holds exactly one cluster, and fails if the payload cannot fill it (QEMU's -EIO).
 */
public interface ClusterDecompressor {

    /**
     * @return true when {@code out} (exactly one cluster long) was filled completely
     */
    boolean decompress(byte[] in, int inLength, byte[] out);

    static ClusterDecompressor of(CompressionType type) {
        return type == CompressionType.ZSTD ? new ZstdClusterDecompressor() : new DeflateClusterDecompressor();
    }
}
