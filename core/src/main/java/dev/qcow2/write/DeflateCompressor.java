package dev.qcow2.write;

import java.io.ByteArrayOutputStream;
import java.util.zip.Deflater;

/**
 * Raw deflate that QEMU can inflate. QEMU inflates compressed clusters with a 4 KiB window
 * ({@code inflateInit2(-12)}): a back-reference further than 4096 bytes fails with "invalid
 * distance too far back". java.util.zip cannot lower the window below 32 KiB, so the input is
 * fed in 4 KiB pieces, each ended by {@link Deflater#FULL_FLUSH}, which resets the match state:
 * no reference can then reach back past the piece it is in (at most 4095 bytes).
 */
final class DeflateCompressor implements ClusterCompressor {
    static final int WINDOW = 4096;

    /**
     * One deflater and output buffer per compressor (one compressor per thread), reset for each
     * cluster: a new zlib stream per cluster costs a native allocation of its window and hash
     * tables each time, which fragments the C heap of several compressing threads.
     */
    private final Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
    private final byte[] buf = new byte[8192];
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 16);

    @Override
    public byte[] compress(byte[] cluster, int maxLength) {
        deflater.reset();
        out.reset();
        for (int at = 0; at < cluster.length; at += WINDOW) {
            int n = Math.min(WINDOW, cluster.length - at);
            deflater.setInput(cluster, at, n);
            boolean last = at + n >= cluster.length;
            if (last) deflater.finish();
            int flush = last ? Deflater.NO_FLUSH : Deflater.FULL_FLUSH;
            while (true) {
                int produced = deflater.deflate(buf, 0, buf.length, flush);
                out.write(buf, 0, produced);
                if (out.size() > maxLength) return null;
                if (last ? deflater.finished() : (produced < buf.length && deflater.needsInput())) break;
            }
        }
        return out.toByteArray();
    }
}
