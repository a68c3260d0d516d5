package dev.qcow2.codec;

import io.airlift.compress.zstd.ZstdInputStream;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * zstd: one or more frames, read through a streaming decoder that is stopped as soon as one
 * cluster has come out, so bytes of a neighbouring compressed cluster are never decoded.
 */
final class ZstdClusterDecompressor implements ClusterDecompressor {
    @Override
    public boolean decompress(byte[] in, int inLength, byte[] out) {
        try (InputStream zin = new ZstdInputStream(new ByteArrayInputStream(in, 0, inLength))) {
            int produced = 0;
            while (produced < out.length) {
                int n = zin.read(out, produced, out.length - produced);
                if (n < 0) break;
                produced += n;
            }
            return produced == out.length;
        } catch (IOException | RuntimeException e) {
            // aircompressor signals malformed input with unchecked exceptions
            return false;
        }
    }
}
