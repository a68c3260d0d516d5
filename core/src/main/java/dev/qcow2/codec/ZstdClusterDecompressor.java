package dev.qcow2.codec;

import io.airlift.compress.zstd.ZstdDecompressor;

/**
 * zstd: one or more frames, decoded frame by frame until one cluster has come out (QEMU's
 * qcow2_zstd_decompress), so the sector padding or a neighbouring cluster's bytes after the last
 * needed frame are never decoded. Each frame's compressed length is found by walking its block
 * headers (RFC 8878 §3.1.1), because aircompressor's streaming decoder reads past a frame's end
 * and fails on the padding.
 */
final class ZstdClusterDecompressor implements ClusterDecompressor {
    private static final int MAGIC = 0xFD2FB528;

    @Override
    public boolean decompress(byte[] in, int inLength, byte[] out) {
        try {
            int pos = 0;
            int produced = 0;
            ZstdDecompressor zstd = new ZstdDecompressor();
            while (produced < out.length) {
                int frameLength = frameLength(in, pos, inLength);
                if (frameLength < 0) return false;
                byte[] frameOut = new byte[out.length];
                int n = zstd.decompress(in, pos, frameLength, frameOut, 0, frameOut.length);
                int take = Math.min(n, out.length - produced);
                System.arraycopy(frameOut, 0, out, produced, take);
                produced += take;
                pos += frameLength;
                if (n == 0) return false;
            }
            return true;
        } catch (RuntimeException e) {
            // aircompressor signals malformed input with unchecked exceptions
            return false;
        }
    }

    /** Compressed length of the frame at {@code pos}, or -1 when it is not a complete frame. */
    static int frameLength(byte[] in, int pos, int limit) {
        if (pos + 5 > limit || le32(in, pos) != MAGIC) return -1;
        int fhd = in[pos + 4] & 0xff;
        int fcsFlag = fhd >>> 6;
        boolean singleSegment = ((fhd >>> 5) & 1) != 0;
        boolean checksum = ((fhd >>> 2) & 1) != 0;
        int dictIdSize = new int[]{0, 1, 2, 4}[fhd & 3];
        int fcsSize = fcsFlag == 0 ? (singleSegment ? 1 : 0) : new int[]{0, 2, 4, 8}[fcsFlag];
        int p = pos + 5 + (singleSegment ? 0 : 1) + dictIdSize + fcsSize;
        while (true) {
            if (p + 3 > limit) return -1;
            int header = (in[p] & 0xff) | (in[p + 1] & 0xff) << 8 | (in[p + 2] & 0xff) << 16;
            boolean last = (header & 1) != 0;
            int type = (header >>> 1) & 3;
            int size = header >>> 3;
            p += 3 + (type == 1 ? 1 : size);      // RLE blocks carry one byte
            if (type == 3 || p > limit) return -1;
            if (last) break;
        }
        if (checksum) p += 4;
        return p > limit ? -1 : p - pos;
    }

    private static int le32(byte[] b, int o) {
        return (b[o] & 0xff) | (b[o + 1] & 0xff) << 8 | (b[o + 2] & 0xff) << 16 | (b[o + 3] & 0xff) << 24;
    }
}
