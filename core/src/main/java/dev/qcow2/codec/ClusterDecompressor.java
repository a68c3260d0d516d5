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

    /**
     * As {@link #decompress}, and where the stream ends: the input bytes it took (a carver follows
     * QEMU's packing, where the next compressed cluster starts at the byte after), 0 when the
     * cluster decoded but the codec cannot tell its end, -1 when it did not decode.
     */
    default int streamLength(byte[] in, int inLength, byte[] out) {
        return decompress(in, inLength, out) ? 0 : -1;
    }

    static ClusterDecompressor of(CompressionType type) {
        return type == CompressionType.ZSTD ? new ZstdClusterDecompressor(true) : new DeflateClusterDecompressor();
    }
}
