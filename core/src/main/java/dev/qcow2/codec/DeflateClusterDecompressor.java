package dev.qcow2.codec;

import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Raw deflate (no zlib header; QEMU writes with windowBits -12). As QEMU's
 * qcow2_zlib_decompress, a stream that ends early or needs more input than the sectors hold is
 * accepted as long as the whole cluster was produced.
 */
final class DeflateClusterDecompressor implements ClusterDecompressor {
    /** One inflater per thread, reset between clusters: inflateInit/End per cluster is measurable. */
    private static final ThreadLocal<Inflater> INFLATER = ThreadLocal.withInitial(() -> new Inflater(true));

    @Override
    public boolean decompress(byte[] in, int inLength, byte[] out) {
        Inflater inflater = INFLATER.get();
        inflater.reset();
        try {
            inflater.setInput(in, 0, inLength);
            int produced = 0;
            while (produced < out.length) {
                int n = inflater.inflate(out, produced, out.length - produced);
                produced += n;
                if (n == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) break;
            }
            return produced == out.length;
        } catch (DataFormatException e) {
            return false;
        }
    }

    /** The end of a raw deflate stream is its final block's end-of-block code, read past the cluster's last byte. */
    @Override
    public int streamLength(byte[] in, int inLength, byte[] out) {
        if (!decompress(in, inLength, out)) return -1;
        Inflater inflater = INFLATER.get();
        try {
            if (!inflater.finished() && inflater.inflate(new byte[1]) != 0) return 0;
        } catch (DataFormatException e) {
            return 0;
        }
        return inflater.finished() ? (int) inflater.getBytesRead() : 0;
    }
}
