package dev.qcow2.rescue;

import dev.qcow2.codec.ClusterDecompressor;
import dev.qcow2.format.CompressionType;
import dev.qcow2.format.L2Entry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Compressed clusters whose L2 entries are lost: found by decoding, in host order, so the
 * placement steps can treat each stream as one more unit besides the whole host clusters
 * ({@link Evidence#units}). A compressed cluster is a stream that decodes to exactly one
 * cluster. Where streams start (QEMU's {@code qcow2_alloc_bytes}): at a fresh host cluster, or at
 * the byte after the previous compressed cluster — which may continue into the next host cluster
 * when that one was allocated right after — or in the free tail of a cluster partly filled
 * earlier. So every unplaced data cluster is tried at its first byte, and from each stream that
 * decodes the chain is followed byte after byte, across cluster boundaries. Clusters holding a
 * stream are then data ({@link Evidence#ROLE_DATA}); the streams take their place as candidates.
 * Encrypted images never hold compressed clusters (qemu refuses to write them).
 */
final class PackedStreams {
    /** One compressed cluster: its first host byte and its length in bytes (as the codec consumed it). */
    record Stream(long firstByte, int length) {
        long lastByte() { return firstByte + length - 1; }
    }

    private final List<Stream> streams = new ArrayList<>();
    private final Map<Long, Integer> byFirstByte = new HashMap<>();
    private byte[] role = new byte[0];
    private ClusterDecompressor codec;
    private CompressionType type;

    int size() { return streams.size(); }

    Stream get(int i) { return streams.get(i); }

    byte role(int i) { return role[i]; }

    void role(int i, byte r) { role[i] = r; }

    /** The stream starting at host byte {@code first}, or -1. */
    int indexOf(long first) { return byFirstByte.getOrDefault(first, -1); }

    String compression() { return type == null ? "none" : type.name().toLowerCase(); }

    /**
     * Finds the streams in the unplaced data clusters of {@code e}. Codec: the header's
     * compression type; header lost, zlib then zstd (the first that decodes a stream stays).
     * Bounded: one decode attempt per unplaced data cluster plus one per stream found.
     */
    void find(Evidence e) throws IOException {
        int cs = e.geo.clusterSize();
        List<CompressionType> tries = e.header != null ? List.of(CompressionType.of(e.header.compressionType()))
                : List.of(CompressionType.ZLIB, CompressionType.ZSTD);
        if (e.src.cipher() != null || e.src.external()) return;
        byte[] out = new byte[cs];
        long coveredUpTo = -1; // a chain reached this byte: starts before it are inside streams
        for (int c = 1; c < e.scan.clusters(); c++) {
            if (e.scan.kind[c] != HostScan.DATA || e.role[c] != Evidence.ROLE_NONE) continue;
            long at = e.scan.hostOffset(c);
            if (at < coveredUpTo) continue;
            while (at < e.fileSize) {
                int len = decode(e, at, out, tries);
                // a stream longer than a descriptor can name (2^(cluster_bits - 8) sectors) is not a compressed cluster
                if (len <= 0 || ((at + len - 1) >>> 9) - (at >>> 9) + 1 > 1L << (e.geo.clusterBits() - 8)) break;
                byFirstByte.put(at, streams.size());
                streams.add(new Stream(at, len));
                at += len;
                coveredUpTo = at;
                // a chain continues only inside unplaced data clusters
                int next = e.hostCluster(at);
                if (next >= e.scan.clusters() || e.scan.kind[next] != HostScan.DATA || (next != e.hostCluster(at - 1) && e.role[next] != Evidence.ROLE_NONE)) break;
            }
        }
        role = new byte[streams.size()];
        for (Stream s : streams) {
            for (long o = s.firstByte() & -cs; o <= s.lastByte(); o += cs) e.role[e.hostCluster(o)] = Evidence.ROLE_DATA;
        }
    }

    /** A cluster size read off a compressed stream: {@code bits}, and where the stream starts. */
    record SizeHit(int bits, long at, CompressionType type) { }

    /**
     * The cluster size when the header and every table are lost but compressed clusters remain:
     * a compressed cluster is a stream that ends exactly one cluster in, and a run of them starts
     * at a cluster boundary. So each 512-byte-aligned offset of the first 32 MiB is decoded as a
     * stream of each power of two it is aligned to (512 B .. 2 MiB, zlib and zstd); the first
     * stream that ends exactly there names the size. Null when none does.
     */
    static SizeHit clusterBitsFromStreams(dev.qcow2.storage.Storage in, long fileSize) throws IOException {
        int maxBits = dev.qcow2.units.ClusterGeometry.MAX_CLUSTER_BITS, minBits = dev.qcow2.units.ClusterGeometry.MIN_CLUSTER_BITS;
        long limit = Math.min(fileSize, 32L << 20);
        byte[][] outs = new byte[maxBits + 1][];
        List<ClusterDecompressor> codecs = List.of(ClusterDecompressor.of(CompressionType.ZLIB), ClusterDecompressor.of(CompressionType.ZSTD));
        byte[] block = new byte[1 << 20];
        long blockAt = -1;
        for (long at = 512; at < limit; at += 512) {
            if (blockAt < 0 || at + HEAD > blockAt + block.length) {
                blockAt = at;
                int len = (int) Math.min(block.length, fileSize - at);
                in.readFully(at, java.nio.ByteBuffer.wrap(block, 0, len));
                if (len < block.length) java.util.Arrays.fill(block, len, block.length, (byte) 0);
            }
            if (!mayStartStream(block, (int) (at - blockAt), (int) Math.min(HEAD, fileSize - at), null)) continue;
            int aligned = Math.min(maxBits, Long.numberOfTrailingZeros(at));
            int n = (int) Math.min(fileSize - at, (2L << maxBits) + 512);
            byte[] packed = null;
            for (int bits = aligned; bits >= minBits; bits--) {
                if (packed == null) packed = in.read(at, n);
                if (outs[bits] == null) outs[bits] = new byte[1 << bits];
                for (int k = 0; k < codecs.size(); k++) {
                    int len;
                    try {
                        len = codecs.get(k).streamLength(packed, Math.min(n, (2 << bits) + 512), outs[bits]);
                    } catch (RuntimeException ex) {
                        len = -1;
                    }
                    if (len > 0) return new SizeHit(bits, at, k == 0 ? CompressionType.ZLIB : CompressionType.ZSTD);
                }
            }
        }
        return null;
    }

    /** Output the screen inflates into and throws away (one per thread, not one per candidate offset). */
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[1 << 16]);

    /** Bytes looked at before a whole stream is read: random data fails to decode well within them. */
    private static final int HEAD = 1024;

    /**
     * Whether a stream of {@code type} (null: either) may start at {@code b[off]}: a zstd frame's
     * magic, or raw deflate that decodes {@code len} bytes without an error. Screens every
     * candidate start cheaply before up to two clusters are read and decoded.
     */
    static boolean mayStartStream(byte[] b, int off, int len, CompressionType type) {
        if (len < 4) return false;
        if (type != CompressionType.ZLIB && (b[off] & 0xff) == 0x28 && (b[off + 1] & 0xff) == 0xb5 && (b[off + 2] & 0xff) == 0x2f && (b[off + 3] & 0xff) == 0xfd) return true;
        if (type == CompressionType.ZSTD) return false;
        java.util.zip.Inflater inflater = new java.util.zip.Inflater(true);
        try {
            inflater.setInput(b, off, len);
            byte[] scratch = SCRATCH.get();
            for (int i = 0; i < 64 && !inflater.finished() && !inflater.needsInput() && !inflater.needsDictionary(); i++) inflater.inflate(scratch);
            return true;
        } catch (java.util.zip.DataFormatException e) {
            return false;
        } finally {
            inflater.end();
        }
    }

    private int decode(Evidence e, long at, byte[] out, List<CompressionType> tries) throws IOException {
        int n = (int) Math.min(2L * e.geo.clusterSize(), e.fileSize - at);
        if (n <= 0) return -1;
        byte[] head = e.in.read(at, Math.min(n, HEAD));
        if (!mayStartStream(head, 0, head.length, type)) return -1;
        byte[] packed = e.in.read(at, n);
        for (CompressionType t : type != null ? List.of(type) : tries) {
            ClusterDecompressor d = type == t && codec != null ? codec : ClusterDecompressor.of(t);
            int len;
            try {
                len = d.streamLength(packed, n, out);
            } catch (RuntimeException ex) {
                len = -1;
            }
            if (len > 0) {
                type = t;
                codec = d;
                return len;
            }
        }
        return -1;
    }

    /** Stream {@code i} decoded: one cluster. */
    byte[] plain(Evidence e, int i) throws IOException {
        Stream s = streams.get(i);
        byte[] out = new byte[e.geo.clusterSize()];
        byte[] packed = e.in.read(s.firstByte(), s.length());
        if (!codec.decompress(packed, packed.length, out)) {
            throw new IOException("compressed cluster at 0x" + Long.toHexString(s.firstByte()) + " no longer decodes");
        }
        return out;
    }

    /** The L2 descriptor QEMU would have written for stream {@code i} (qcow2.rst "Compressed Clusters Descriptor"). */
    long descriptor(Evidence e, int i) {
        Stream s = streams.get(i);
        int sectors = (int) ((s.lastByte() >>> 9) - (s.firstByte() >>> 9) + 1);
        return L2Entry.encode(new L2Entry.Compressed(0, 0, s.firstByte(), sectors, false), e.geo);
    }
}
