package dev.qcow2.create;

import dev.qcow2.format.BitmapDirectoryEntry;
import dev.qcow2.image.BlockDevice;
import dev.qcow2.image.ChainMap;
import dev.qcow2.image.MapEntry;
import dev.qcow2.image.Qcow2Image;

import java.io.IOException;
import java.util.List;
import java.util.OptionalLong;

/**
 * qemu-img measure for a qcow2 target (QEMU 7.2 qcow2_measure and qcow2_calc_prealloc_size):
 * the file size a new image needs for a virtual size, or to hold an existing image's data.
 * Messages are qemu-img's.
 */
public final class ImageMeasure {
    private ImageMeasure() { }

    /**
     * @param required       bytes the new image needs (metadata of the fully allocated image plus the data)
     * @param fullyAllocated bytes with every cluster allocated
     * @param bitmaps        bytes for the source's persistent bitmaps, when source and target support them
     */
    public record Result(long required, long fullyAllocated, OptionalLong bitmaps) { }

    /** A raw target: its size is the virtual size (raw_measure). */
    public static Result raw(long size, BlockDevice source) {
        long s = source != null ? source.size() : CreateOptions.roundUp(size, 512);
        return new Result(s, s, OptionalLong.empty());
    }

    /**
     * A qcow2 target made with {@code options} (its "size" is ignored when a source is given).
     *
     * @param source the image to convert, or null to measure {@code options}' size
     */
    public static Result qcow2(OptionList options, BlockDevice source) throws IOException {
        return qcow2(options, source, source instanceof Qcow2Image q ? q : null);
    }

    /** As {@link #qcow2(OptionList, BlockDevice)}; {@code image} is the qcow2 file behind the source (a snapshot view's image), or null. */
    public static Result qcow2(OptionList options, BlockDevice source, Qcow2Image image) throws IOException {
        boolean extendedL2 = options.bool("extended_l2");
        long clusterSize = SizeParser.parseOption("cluster_size", options.getOrDefault("cluster_size"));
        if (clusterSize < 512 || clusterSize > (2 << 20) || Long.bitCount(clusterSize) != 1) {
            throw new IllegalArgumentException("Cluster size must be a power of two between 512 and 2048k");
        }
        if (extendedL2 && clusterSize < 16384) {
            throw new IllegalArgumentException("Extended L2 entries are only supported with cluster sizes of at least 16384 bytes");
        }
        int version = 3;
        String compat = options.get("compat");
        if (compat != null) {
            version = switch (compat) {
                case "0.10" -> 2;
                case "1.1" -> 3;
                default -> throw new IllegalArgumentException("Invalid compatibility level: '" + compat + "'");
            };
        }
        long refcountBits = OptionList.parseNumber("refcount_bits", options.getOrDefault("refcount_bits"));
        if (refcountBits > 64 || Long.bitCount(refcountBits) != 1) {
            throw new IllegalArgumentException("Refcount width must be a power of two and may not exceed 64 bits");
        }
        if (version < 3 && refcountBits != 16) {
            throw new IllegalArgumentException("Different refcount widths than 16 bits require compatibility level 1.1 or above (use compat=1.1 or greater)");
        }
        String p = options.get("preallocation");
        Preallocation prealloc = p == null ? Preallocation.OFF : Preallocation.parse(p)
                .orElseThrow(() -> new IllegalArgumentException("invalid parameter value: " + p));
        // qcow2_measure: a LUKS header takes its payload offset, rounded to clusters, in both
        // numbers; creating it needs the passphrase even to measure (qcrypto_block_calculate_payload_offset)
        EncryptionRequest encryption = EncryptionRequest.of(options);
        long luksPayload = 0;
        if (encryption != null && encryption.luks()) {
            if (encryption.keySecretId() == null) throw new IllegalArgumentException("Parameter 'encrypt.key-secret' is required for cipher");
            luksPayload = CreateOptions.roundUp(dev.qcow2.crypto.LuksFormatter.areaLength(encryption.spec()), clusterSize);
        }
        boolean hasBacking = options.has("backing_file");

        long virtualSize = options.has("size") ? SizeParser.parseOption("size", options.get("size")) : 0;
        virtualSize = CreateOptions.roundUp(virtualSize, clusterSize);
        long l2EntrySize = extendedL2 ? 16 : 8;
        long l2Tables = RefcountMath.divRoundUp(virtualSize / clusterSize, clusterSize / l2EntrySize);
        if (l2Tables * 8 > (32L << 20)) {
            throw new IllegalArgumentException("The image size is too large (try using a larger cluster size)");
        }

        long required = 0;
        if (source != null) {
            long ssize = source.size();
            virtualSize = CreateOptions.roundUp(ssize, clusterSize);
            // Without a backing file only allocated data counts; with one, the new image's backing
            // may share nothing with the source, so every cluster counts.
            required = hasBacking ? virtualSize : allocatedBytes(source, clusterSize);
        }
        if (prealloc == Preallocation.FULL || prealloc == Preallocation.FALLOC) required = virtualSize;

        long fully = preallocSize(virtualSize, clusterSize, Long.numberOfTrailingZeros(refcountBits), extendedL2);
        OptionalLong bitmaps = OptionalLong.empty();
        if (version >= 3 && source != null && image != null && image.header().version() >= 3) {
            bitmaps = OptionalLong.of(bitmapsSize(image, clusterSize));
        }
        return new Result(fully - virtualSize + required + luksPayload, fully + luksPayload, bitmaps);
    }

    /** qcow2_calc_prealloc_size: header, L2 tables, L1 table, refcount structures and data, all allocated. */
    static long preallocSize(long totalSize, long clusterSize, int refcountOrder, boolean extendedL2) {
        long l2EntrySize = extendedL2 ? 16 : 8;
        long aligned = CreateOptions.roundUp(totalSize, clusterSize);
        long meta = clusterSize;
        long nl2e = CreateOptions.roundUp(aligned / clusterSize, clusterSize / l2EntrySize);
        meta += nl2e * l2EntrySize;
        long nl1e = CreateOptions.roundUp(nl2e * l2EntrySize / clusterSize, clusterSize / 8);
        meta += nl1e * 8;
        long[] rc = RefcountMath.metadata((meta + aligned) / clusterSize, clusterSize, refcountOrder, false);
        meta += (rc[0] + rc[1]) * clusterSize;
        return meta + aligned;
    }

    /**
     * The source's bytes that hold data, each run extended to whole target clusters, as
     * qcow2_measure's bdrv_block_status_above loop counts them: zero ranges are skipped, data
     * that is allocated somewhere in the chain counts.
     */
    private static long allocatedBytes(BlockDevice source, long clusterSize) throws IOException {
        long ssize = source.size();
        ChainMap map = new ChainMap(true);
        long required = 0;
        long pnum;
        for (long offset = 0; offset < ssize; offset += pnum) {
            MapEntry e = map.status(source, offset, Math.min(ssize - offset, 1L << 30));
            pnum = e.length();
            if (!e.zero() && e.data() && e.present()) {
                pnum = CreateOptions.roundUp(offset + pnum, clusterSize) - offset;
                required += offset % clusterSize + pnum;
            }
        }
        return required;
    }

    /** qcow2_measure's bitmap estimate: every bitmap fully allocated, its table, its directory entry. */
    private static long bitmapsSize(Qcow2Image image, long clusterSize) throws IOException {
        List<BitmapDirectoryEntry> entries = image.bitmaps();
        long size = 0;
        long dirSize = 0;
        for (BitmapDirectoryEntry b : entries) {
            long granularity = 1L << b.granularityBits();
            long bits = RefcountMath.divRoundUp(image.size(), granularity);
            long clusters = RefcountMath.divRoundUp(RefcountMath.divRoundUp(bits, 8), clusterSize);
            size += clusters * clusterSize;
            size += CreateOptions.roundUp(clusters * 8, clusterSize);
            dirSize += CreateOptions.roundUp(24 + b.name().getBytes(java.nio.charset.StandardCharsets.UTF_8).length, 8);
        }
        return size + CreateOptions.roundUp(dirSize, clusterSize);
    }
}
