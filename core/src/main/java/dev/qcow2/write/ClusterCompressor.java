package dev.qcow2.write;

import dev.qcow2.format.CompressionType;

/** Compresses one guest cluster for a compressed L2 entry. */
public interface ClusterCompressor {

    /**
     * @return the compressed bytes, or null when they would not fit in {@code maxLength} bytes
     *         (QEMU then writes the cluster uncompressed)
     */
    byte[] compress(byte[] cluster, int maxLength);

    /** A new compressor (instances may keep state: use one per thread). */
    static ClusterCompressor of(CompressionType type) {
        return type == CompressionType.ZSTD ? new ZstdCompressor() : new DeflateCompressor();
    }
}
