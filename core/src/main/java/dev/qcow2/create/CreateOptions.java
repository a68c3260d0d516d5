package dev.qcow2.create;

import dev.qcow2.format.CompressionType;

/**
 * The validated options of a new qcow2 image: QEMU 7.2's BlockdevCreateOptionsQcow2 after
 * qcow2_co_create's checks, which run in QEMU's order and fail with QEMU's wording.
 *
 * @param size          virtual size in bytes, rounded up to 512 like qcow2_co_create_opts
 * @param version       2 (compat=0.10|v2) or 3 (compat=1.1|v3, the default)
 * @param clusterSize   512 .. 2 MiB, a power of two
 * @param refcountBits  1 .. 64, a power of two; 16 on version 2
 * @param dataFile      external data file name as given (stored in the header extension), or null
 * @param backingFile   backing file name as given (stored in the header), or null
 * @param backingFmt    backing format name (backing format header extension), or null
 * @param encryption    the encrypt.* options, or null for an unencrypted image
 */
public record CreateOptions(long size, int version, int clusterSize, int refcountBits, boolean lazyRefcounts,
                            boolean extendedL2, CompressionType compressionType, Preallocation preallocation,
                            String backingFile, String backingFmt, String dataFile, boolean dataFileRaw,
                            EncryptionRequest encryption) {

    public static final int DEFAULT_CLUSTER_SIZE = 65536;

    public int clusterBits() { return Integer.numberOfTrailingZeros(clusterSize); }

    public int refcountOrder() { return Integer.numberOfTrailingZeros(refcountBits); }

    /** Parses {@code key=value,...} (the size must be among them). */
    public static CreateOptions parse(String options) {
        return of(new OptionList().add(options));
    }

    /** Converts and validates, as qcow2_co_create_opts and qcow2_co_create do. */
    public static CreateOptions of(OptionList o) {
        if (!o.has("size")) throw new IllegalArgumentException("Image creation needs a size parameter");
        long size = roundUp(SizeParser.parseOption("size", o.get("size")), 512);

        // qapi conversion of the enum-typed options (visited in BlockdevCreateOptionsQcow2 field order)
        int version = 3;
        String compat = o.get("compat");
        if (compat != null) {
            version = switch (compat) {
                case "0.10", "v2" -> 2;
                case "1.1", "v3" -> 3;
                default -> throw new IllegalArgumentException("Parameter 'version' does not accept value '" + compat + "'");
            };
        }
        Preallocation prealloc = Preallocation.OFF;
        String p = o.get("preallocation");
        if (p != null) {
            prealloc = Preallocation.parse(p).orElseThrow(() ->
                    new IllegalArgumentException("Parameter 'preallocation' does not accept value '" + p + "'"));
        }
        String ct = o.getOrDefault("compression_type");
        CompressionType compression = switch (ct) {
            case "zlib" -> CompressionType.ZLIB;
            case "zstd" -> CompressionType.ZSTD;
            default -> throw new IllegalArgumentException("Parameter 'compression-type' does not accept value '" + ct + "'");
        };

        // qcow2_co_create
        long clusterSize = SizeParser.parseOption("cluster_size", o.getOrDefault("cluster_size"));
        boolean extendedL2 = o.bool("extended_l2");
        if (extendedL2 && version < 3) {
            throw new IllegalArgumentException("Extended L2 entries are only supported with compatibility level 1.1 and above (use version=v3 or greater)");
        }
        if (clusterSize < 512 || clusterSize > (2 << 20) || Long.bitCount(clusterSize) != 1) {
            throw new IllegalArgumentException("Cluster size must be a power of two between 512 and 2048k");
        }
        if (extendedL2 && clusterSize < 16384) {
            throw new IllegalArgumentException("Extended L2 entries are only supported with cluster sizes of at least 16384 bytes");
        }
        String backingFile = o.get("backing_file");
        String backingFmt = o.get("backing_fmt");
        if (backingFile != null && prealloc != Preallocation.OFF && !extendedL2) {
            throw new IllegalArgumentException("Backing file and preallocation can only be used at the same time if extended_l2 is on");
        }
        if (backingFmt != null && backingFile == null) {
            throw new IllegalArgumentException("Backing format cannot be used without backing file");
        }
        boolean lazy = o.bool("lazy_refcounts");
        if (version < 3 && lazy) {
            throw new IllegalArgumentException("Lazy refcounts only supported with compatibility level 1.1 and above (use version=v3 or greater)");
        }
        long refcountBits = OptionList.parseNumber("refcount_bits", o.getOrDefault("refcount_bits"));
        if (refcountBits > 64 || Long.bitCount(refcountBits) != 1) {
            throw new IllegalArgumentException("Refcount width must be a power of two and may not exceed 64 bits");
        }
        if (version < 3 && refcountBits != 16) {
            throw new IllegalArgumentException("Different refcount widths than 16 bits require compatibility level 1.1 or above (use version=v3 or greater)");
        }
        String dataFile = o.get("data_file");
        boolean dataFileRaw = o.bool("data_file_raw");
        if (dataFileRaw && dataFile == null) throw new IllegalArgumentException("data-file-raw requires data-file");
        if (dataFileRaw && backingFile != null) {
            throw new IllegalArgumentException("Backing file and data-file-raw cannot be used at the same time");
        }
        if (dataFileRaw && prealloc == Preallocation.OFF) {
            prealloc = Preallocation.METADATA;   // a raw data file needs every guest cluster mapped
        }
        if (dataFile != null && version < 3) {
            throw new IllegalArgumentException("External data files are only supported with compatibility level 1.1 and above (use version=v3 or greater)");
        }
        if (compression != CompressionType.ZLIB && version < 3) {
            throw new IllegalArgumentException("Non-zlib compression type is only supported with compatibility level 1.1 and above (use version=v3 or greater)");
        }
        // qcow2_co_create_opts converts encrypt.* (QCryptoBlockCreateOptions) after the qcow2 options
        EncryptionRequest encryption = EncryptionRequest.of(o);
        CreateOptions result = new CreateOptions(size, version, (int) clusterSize, (int) refcountBits, lazy, extendedL2,
                compression, prealloc, backingFile, backingFmt, dataFile, dataFileRaw, encryption);
        if (result.l1Entries() > MAX_L1_ENTRIES) {
            throw new IllegalArgumentException("The image size is too large for file format 'qcow2' (try using a larger cluster size)");
        }
        return result;
    }

    /** QCOW_MAX_L1_SIZE (32 MiB) in entries. */
    static final long MAX_L1_ENTRIES = (32L << 20) / 8;

    /** Entries of an L2 table (an extended entry is 16 bytes). */
    public long l2Entries() { return clusterSize / (extendedL2 ? 16 : 8); }

    /** size_to_l1: L1 entries needed for the virtual size. */
    public long l1Entries() {
        long perL1 = l2Entries() * clusterSize;
        return (size + perL1 - 1) / perL1;
    }

    static long roundUp(long v, long to) { return (v + to - 1) / to * to; }
}
