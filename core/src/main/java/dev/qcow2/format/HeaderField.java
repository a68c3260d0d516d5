package dev.qcow2.format;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * The fixed header fields as data (qcow2.rst "Header"): QEMU's name, byte offset, width in
 * bytes (all big-endian) and the version that introduced the field. Reading
 * ({@link Qcow2Header#read}), encoding ({@link Qcow2HeaderEncoder}), dumping
 * ({@link Qcow2Header#fields()}) and every in-place update ({@link #patch}) use this one table,
 * so no offset is written down twice.
 */
public enum HeaderField {
    MAGIC("magic", 0, 4, 2, h -> Qcow2Header.MAGIC),
    VERSION("version", 4, 4, 2, Qcow2Header::version),
    BACKING_FILE_OFFSET("backing_file_offset", 8, 8, 2, Qcow2Header::backingFileOffset),
    BACKING_FILE_SIZE("backing_file_size", 16, 4, 2, Qcow2Header::backingFileSize),
    CLUSTER_BITS("cluster_bits", 20, 4, 2, Qcow2Header::clusterBits),
    SIZE("size", 24, 8, 2, Qcow2Header::size),
    CRYPT_METHOD("crypt_method", 32, 4, 2, Qcow2Header::cryptMethod),
    L1_SIZE("l1_size", 36, 4, 2, Qcow2Header::l1Size),
    L1_TABLE_OFFSET("l1_table_offset", 40, 8, 2, Qcow2Header::l1TableOffset),
    REFCOUNT_TABLE_OFFSET("refcount_table_offset", 48, 8, 2, Qcow2Header::refcountTableOffset),
    REFCOUNT_TABLE_CLUSTERS("refcount_table_clusters", 56, 4, 2, Qcow2Header::refcountTableClusters),
    NB_SNAPSHOTS("nb_snapshots", 60, 4, 2, Qcow2Header::nbSnapshots),
    SNAPSHOTS_OFFSET("snapshots_offset", 64, 8, 2, Qcow2Header::snapshotsOffset),
    INCOMPATIBLE_FEATURES("incompatible_features", 72, 8, 3, Qcow2Header::incompatibleFeatures),
    COMPATIBLE_FEATURES("compatible_features", 80, 8, 3, Qcow2Header::compatibleFeatures),
    AUTOCLEAR_FEATURES("autoclear_features", 88, 8, 3, Qcow2Header::autoclearFeatures),
    REFCOUNT_ORDER("refcount_order", 96, 4, 3, Qcow2Header::refcountOrder),
    HEADER_LENGTH("header_length", 100, 4, 3, Qcow2Header::headerLength),
    /** Optional: present when header_length exceeds 104 (bytes 105-111 are padding). */
    COMPRESSION_TYPE("compression_type", 104, 1, 3, Qcow2Header::compressionType);

    private final String qemuName;
    private final int offset;
    private final int width;
    private final int sinceVersion;
    private final ToLongFunction<Qcow2Header> value;

    HeaderField(String qemuName, int offset, int width, int sinceVersion, ToLongFunction<Qcow2Header> value) {
        this.qemuName = qemuName;
        this.offset = offset;
        this.width = width;
        this.sinceVersion = sinceVersion;
        this.value = value;
    }

    /** The field's name in qcow2.rst and QEMU's QCowHeader. */
    public String qemuName() { return qemuName; }

    /** Byte offset in cluster 0. */
    public int offset() { return offset; }

    /** Width in bytes: 1, 4 or 8. */
    public int width() { return width; }

    /** The first header version that has this field (2 or 3). */
    public int sinceVersion() { return sinceVersion; }

    /** Whether a header of this version and header_length carries the field. */
    public boolean presentIn(int version, long headerLength) {
        return version >= sinceVersion && offset + width <= (version >= 3 ? headerLength : Qcow2Header.V2_HEADER_LENGTH);
    }

    /** The fields a header of this version and header_length carries, in on-disk order. */
    public static List<HeaderField> presentFields(int version, long headerLength) {
        List<HeaderField> out = new ArrayList<>();
        for (HeaderField f : values()) if (f.presentIn(version, headerLength)) out.add(f);
        return out;
    }

    /** This field's value in {@code h} (the model value, as {@link Qcow2Header#read} decoded it). */
    public long of(Qcow2Header h) { return value.applyAsLong(h); }

    /** The field read from {@code header} (cluster 0, absolute position); 1- and 4-byte fields unsigned. */
    public long get(ByteBuffer header) {
        return switch (width) {
            case 1 -> Byte.toUnsignedLong(header.get(offset));
            case 4 -> Integer.toUnsignedLong(header.getInt(offset));
            default -> header.getLong(offset);
        };
    }

    /** The field decoded from exactly its {@link #width()} bytes (as read from its offset). */
    public long decode(byte[] fieldBytes) {
        if (fieldBytes.length != width) throw new IllegalArgumentException(qemuName + " is " + width + " bytes, got " + fieldBytes.length);
        ByteBuffer at = ByteBuffer.allocate(offset + width).put(offset, fieldBytes);
        return get(at);
    }

    /** Stores {@code v} at the field's absolute position in {@code header}; it must fit the width (unsigned below 8 bytes). */
    public void put(ByteBuffer header, long v) {
        requireFits(v);
        switch (width) {
            case 1 -> header.put(offset, (byte) v);
            case 4 -> header.putInt(offset, (int) v);
            default -> header.putLong(offset, v);
        }
    }

    private void requireFits(long v) {
        if (width < 8 && (v < 0 || v >>> (8 * width) != 0)) {
            throw new IllegalArgumentException("header field " + qemuName + ": " + v + " does not fit in " + width + " bytes");
        }
    }

    /** A new value for this field, for {@link #patch}. */
    public Value is(long v) {
        requireFits(v);
        return new Value(this, v);
    }

    /** A field with its new value. */
    public record Value(HeaderField field, long value) { }

    /** One write into cluster 0: {@code bytes} at {@code offset}. */
    public record Patch(long offset, byte[] bytes) {
        public ByteBuffer buffer() { return ByteBuffer.wrap(bytes); }
    }

    /**
     * The single write that updates {@code values}: fields given in on-disk order and adjacent
     * to one another, so that one write (inside the first sector: atomic on real disks) switches
     * them together, as QEMU updates e.g. l1_size and l1_table_offset with one
     * bdrv_pwrite_sync.
     */
    public static Patch patch(Value... values) {
        if (values.length == 0) throw new IllegalArgumentException("no header field to patch");
        int start = values[0].field().offset;
        int end = start;
        for (Value v : values) {
            if (v.field().offset != end) {
                throw new IllegalArgumentException("header fields of one patch must be adjacent and in order: " + v.field().qemuName);
            }
            end += v.field().width;
        }
        ByteBuffer b = ByteBuffer.allocate(end);
        for (Value v : values) v.field().put(b, v.value());
        byte[] bytes = new byte[end - start];
        b.get(start, bytes);
        return new Patch(start, bytes);
    }
}
