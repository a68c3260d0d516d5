package dev.qcow2.write;

/** One zstd frame per cluster, as QEMU's qcow2_zstd_compress (ZSTD_e_end). */
final class ZstdCompressor implements ClusterCompressor {
    @Override
    public byte[] compress(byte[] cluster, int maxLength) {
        io.airlift.compress.zstd.ZstdCompressor zstd = new io.airlift.compress.zstd.ZstdCompressor();
        byte[] out = new byte[zstd.maxCompressedLength(cluster.length)];
        int n = zstd.compress(cluster, 0, cluster.length, out, 0, out.length);
        if (n > maxLength) return null;
        return java.util.Arrays.copyOf(out, n);
    }
}
