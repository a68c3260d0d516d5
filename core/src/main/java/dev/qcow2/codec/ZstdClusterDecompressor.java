package dev.qcow2.codec;

import io.airlift.compress.zstd.ZstdDecompressor;

/**
 * zstd, as QEMU's qcow2_zstd_decompress: one or more frames, decoded until exactly one cluster
 * has come out; the last frame must end there. The input usually carries trailing bytes (the rest
 * of the last 512-byte sector: zeros or the next compressed cluster), so each frame's length is
 * found by walking its block headers (RFC 8878 §3.1.1) and only that frame is decoded: bytes
 * after it are never looked at. (aircompressor's streaming decoder validates the next frame's
 * magic before returning the previous frame's output, so it fails on such trailing bytes.)
 * Frames are decoded by the system's libzstd when it is there ({@link NativeZstd}), else by
 * aircompressor's pure-Java decoder.
 */
final class ZstdClusterDecompressor implements ClusterDecompressor {
    private static final int MAGIC = 0xFD2FB528;
    private static final int SKIPPABLE_MAGIC_MASK = 0xFFFFFFF0;
    private static final int SKIPPABLE_MAGIC = 0x184D2A50;

    /** Whether frames may go to libzstd (false: always the pure-Java decoder; the specs compare both). */
    private final boolean allowNative;

    ZstdClusterDecompressor(boolean allowNative) { this.allowNative = allowNative; }

    @Override
    public boolean decompress(byte[] in, int inLength, byte[] out) {
        return streamLength(in, inLength, out) > 0;
    }

    /** The frames' lengths up to the one that completes the cluster (QEMU's writer emits one frame). */
    @Override
    public int streamLength(byte[] in, int inLength, byte[] out) {
        NativeZstd.FrameDecoder system = allowNative ? NativeZstd.decoder() : null;
        ZstdDecompressor zstd = system == null ? new ZstdDecompressor() : null;
        int pos = 0;
        int produced = 0;
        try {
            while (produced < out.length) {
                int frameLength = frameLength(in, pos, inLength);
                if (frameLength < 0) return -1;
                if (readIntLE(in, pos) == MAGIC) {
                    if (system != null) {
                        int n = system.decode(in, pos, frameLength, out, produced, out.length - produced);
                        if (n < 0) return -1;
                        produced += n;
                    } else {
                        produced += zstd.decompress(in, pos, frameLength, out, produced, out.length - produced);
                    }
                }
                pos += frameLength;
            }
            return produced == out.length && pos > 0 ? pos : -1;
        } catch (RuntimeException e) {
            // aircompressor signals malformed input (and output overflow) with unchecked exceptions
            return -1;
        }
    }

    /** Length of the frame starting at {@code pos}, or -1 if it is not a whole frame inside {@code limit}. */
    static int frameLength(byte[] in, int pos, int limit) {
        if (limit - pos < 8) return -1;
        int magic = readIntLE(in, pos);
        if ((magic & SKIPPABLE_MAGIC_MASK) == SKIPPABLE_MAGIC) {
            long size = 8L + (readIntLE(in, pos + 4) & 0xffffffffL);
            return size <= limit - pos ? (int) size : -1;
        }
        if (magic != MAGIC) return -1;
        int fhd = in[pos + 4] & 0xff;
        int fcsFlag = fhd >>> 6;
        boolean singleSegment = (fhd & 0x20) != 0;
        boolean checksum = (fhd & 0x04) != 0;
        int didSize = new int[] {0, 1, 2, 4}[fhd & 3];
        int fcsSize = new int[] {singleSegment ? 1 : 0, 2, 4, 8}[fcsFlag];
        long p = pos + 5L + (singleSegment ? 0 : 1) + didSize + fcsSize;
        while (true) {
            if (p + 3 > limit) return -1;
            int header = (in[(int) p] & 0xff) | (in[(int) p + 1] & 0xff) << 8 | (in[(int) p + 2] & 0xff) << 16;
            boolean last = (header & 1) != 0;
            int type = (header >>> 1) & 3;
            int size = header >>> 3;
            if (type == 3) return -1;                  // reserved block type
            p += 3 + (type == 1 ? 1 : size);            // an RLE block stores one byte
            if (last) break;
        }
        if (checksum) p += 4;
        return p <= limit ? (int) (p - pos) : -1;
    }

    private static int readIntLE(byte[] b, int o) {
        return (b[o] & 0xff) | (b[o + 1] & 0xff) << 8 | (b[o + 2] & 0xff) << 16 | (b[o + 3] & 0xff) << 24;
    }
}
