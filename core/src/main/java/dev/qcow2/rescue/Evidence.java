package dev.qcow2.rescue;

import dev.qcow2.codec.ClusterDecompressor;
import dev.qcow2.format.CompressionType;
import dev.qcow2.format.L2Entry;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.storage.Storage;
import dev.qcow2.units.ClusterGeometry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * What a rescue knows so far, shared by the placement steps ({@link TablePlacement},
 * {@link OrphanL2Placement}, {@link SignaturePlacement}, {@link AllocationOrderPlacement}): the
 * damaged file (read only), its geometry, the host scan, the role decided for each host cluster
 * and the guest map being built; plus what every step reads through: a host cluster's bytes, the
 * rescued guest as far as it is placed ({@link #view}), an L2 table's entries placed at a guest
 * position. Invariant: a host cluster whose role is not {@code ROLE_NONE} is never placed again.
 */
class Evidence {
    final Storage in;
    final String res;
    final long fileSize;
    /** The report's structures, in the order they were found (shared: every step appends). */
    final List<RescueReport.Structure> structures;
    /** The header, or null when it did not parse. */
    final Qcow2Header header;
    final ClusterGeometry geo;
    final HostScan scan;
    /** Per host cluster: what the rescue has decided it is ({@code ROLE_*}); shared by every step. */
    final byte[] role;
    final GuestMap map;
    /** Data storage, cipher and base (see {@link Sources}). */
    final Sources src;
    /** Compressed clusters found by decoding (L2 lost): units past the host clusters ({@link #units}). */
    final PackedStreams packed;

    Evidence(Storage in, long fileSize, List<RescueReport.Structure> structures, Qcow2Header header, ClusterGeometry geo,
             HostScan scan, byte[] role, GuestMap map, Sources src, PackedStreams packed) {
        this.in = in;
        this.res = in.describe();
        this.fileSize = fileSize;
        this.structures = structures;
        this.header = header;
        this.geo = geo;
        this.scan = scan;
        this.role = role;
        this.map = map;
        this.src = src;
        this.packed = packed;
    }

    /** A step working on the same evidence as {@code shared} (the same lists, arrays and map). */
    Evidence(Evidence shared) {
        this(shared.in, shared.fileSize, shared.structures, shared.header, shared.geo, shared.scan, shared.role, shared.map, shared.src, shared.packed);
    }

    static final byte ROLE_NONE = 0, ROLE_DATA = 1, ROLE_L1 = 2, ROLE_L2 = 3, ROLE_REFTABLE = 4, ROLE_META = 5;

    long[] readEntries(long offset, long count) throws IOException {
        long bytes = count * 8;
        if (count <= 0 || bytes > Qcow2Header.MAX_L1_BYTES || offset < 0 || offset + bytes > fileSize) return null;
        ByteBuffer b = ByteBuffer.allocate((int) bytes);
        in.readFully(offset, b);
        long[] e = new long[(int) count];
        for (int i = 0; i < e.length; i++) e[i] = b.getLong(i * 8);
        return e;
    }

    int hostCluster(long offset) { return (int) (offset >>> geo.clusterBits()); }

    ByteBuffer cluster(int c) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(geo.clusterSize());
        HostScan.readCluster(in, scan.hostOffset(c), fileSize, b);
        return b;
    }

    void placeTable(int t, long firstGuestCluster, Placement how) throws IOException {
        ByteBuffer b = cluster(t);
        int step = geo.l2EntrySize();
        for (int j = 0; j < geo.l2Entries(); j++) {
            long raw = b.getLong(j * step), bitmap = geo.extendedL2() ? b.getLong(j * step + 8) : 0;
            long g = firstGuestCluster + j;
            if (map.placed(g)) continue;
            L2Entry entry = L2Entry.decode(raw, bitmap, geo, src.external());
            switch (entry) {
                case L2Entry.Unallocated u -> {
                    if (geo.extendedL2() && (u.bitmap() >>> 32) != 0) map.place(g, raw, bitmap, how);
                }
                case L2Entry.Zero z -> map.place(g, raw, bitmap, how);
                case L2Entry.Normal n -> {
                    if (src.external()) {
                        if (n.hostOffset() < src.dataSize()) map.place(g, raw, bitmap, how);
                        continue;
                    }
                    int h = hostCluster(n.hostOffset());
                    if (h < scan.clusters()) { map.place(g, raw, bitmap, how); role[h] = ROLE_DATA; }
                }
                case L2Entry.Compressed c -> {
                    if (c.lastHostByte() < fileSize + 512) {
                        map.place(g, raw, bitmap, how);
                        for (long o = c.firstHostByte() & -geo.clusterSize(); o <= Math.min(c.lastHostByte(), fileSize - 1); o += geo.clusterSize()) {
                            role[hostCluster(o)] = ROLE_DATA;
                        }
                    }
                }
            }
        }
    }

    /** The guest cluster a host cluster's signature names (fs at {@code fsStart}), or -1. */
    long signatureGuestCluster(ByteBuffer c, long fsStart) {
        if (GuestFs.isMbr(c)) return 0;
        for (GuestFs.SuperblockHit hit : GuestFs.superblocks(c)) {
            long guestByte = fsStart + hit.sb().copyOffset(hit.sb().groupNr());
            if ((guestByte & (geo.clusterSize() - 1)) == hit.inCluster()) return guestByte >>> geo.clusterBits();
        }
        // a FAT boot sector sits at the file system's first byte (the first one in host order: a
        // FAT32 backup copy, six sectors on, comes later)
        if (FatFs.parse(c, (int) (fsStart & (geo.clusterSize() - 1))) != null) return fsStart >>> geo.clusterBits();
        return -1;
    }

    /** The rescued guest as placed so far: null for a range that reaches an unplaced cluster. */
    final GuestFs.GuestView view = this::readPlaced;

    private byte[] readPlaced(long guestOffset, int len) {
        try {
            byte[] out = new byte[len];
            long end = guestOffset + len;
            for (long o = guestOffset; o < end; ) {
                long g = o >>> geo.clusterBits();
                byte[] data;
                if (map.placed(g)) data = cachedGuestCluster(g);
                else if (src.base() != null && (g << geo.clusterBits()) < src.base().size()) data = baseCluster(g);
                else return null;
                int in = (int) (o & (geo.clusterSize() - 1));
                int n = (int) Math.min(geo.clusterSize() - in, end - o);
                System.arraycopy(data, in, out, (int) (o - guestOffset), n);
                o += n;
            }
            return out;
        } catch (IOException e) {
            return null;
        }
    }

    // ---- units: what the inferred placements place ------------------------------------------
    // Unit u < scan.clusters() is host cluster u; unit scan.clusters() + i is compressed stream i
    // of {@link #packed} (a compressed cluster whose L2 entry is lost). Placed units are recorded in
    // the guest map by their descriptor: a host offset, or a compressed L2 descriptor (COMPRESSED set).

    int units() { return scan.clusters() + packed.size(); }

    /** A decoded guest cluster and the placement it was decoded from. */
    private record Decoded(long raw, Placement how, byte[] data) { }

    /**
     * The last few guest clusters {@link #view} decoded: the file-system walks read inodes and
     * entries a few bytes at a time, and a compressed 2 MiB cluster must not be inflated again
     * for each. Keyed by guest cluster and checked against its current placement.
     */
    private final java.util.LinkedHashMap<Long, Decoded> recent = new java.util.LinkedHashMap<>(32, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(java.util.Map.Entry<Long, Decoded> eldest) { return size() > 16; }
    };

    private byte[] cachedGuestCluster(long g) throws IOException {
        Decoded d = recent.get(g);
        if (d != null && d.raw() == map.raw(g) && d.how() == map.method(g)) return d.data();
        byte[] data = guestCluster(g);
        recent.put(g, new Decoded(map.raw(g), map.method(g), data));
        return data;
    }

    /** An unplaced unit holding data (a guest cluster starting with a LUKS magic is data too, unless it is the image's LUKS area). */
    boolean candidate(int u) {
        if (u >= scan.clusters()) return packed.role(u - scan.clusters()) == ROLE_NONE;
        return (scan.kind[u] == HostScan.DATA || scan.kind[u] == HostScan.LUKS) && role[u] == ROLE_NONE;
    }

    /** Where unit {@code u} starts in the damaged file: the host order the allocation order follows. */
    long unitHostByte(int u) { return u < scan.clusters() ? scan.hostOffset(u) : packed.get(u - scan.clusters()).firstByte(); }

    boolean isStream(int u) { return u >= scan.clusters(); }

    private int[] hostOrder;

    /** Every unit but the header cluster, in host byte order (streams among the clusters they lie in). */
    int[] unitsInHostOrder() {
        if (hostOrder == null || hostOrder.length != units() - 1) {
            hostOrder = java.util.stream.IntStream.range(1, units()).boxed()
                    .sorted(java.util.Comparator.comparingLong(this::unitHostByte)).mapToInt(Integer::intValue).toArray();
        }
        return hostOrder;
    }

    /** Places unit {@code u} at guest cluster {@code g} and marks it used. */
    void placeUnit(long g, int u, Placement how) {
        if (u < scan.clusters()) {
            map.place(g, scan.hostOffset(u), allBitmap(), how);
            role[u] = ROLE_DATA;
        } else {
            map.place(g, packed.descriptor(this, u - scan.clusters()), 0, how);
            packed.role(u - scan.clusters(), ROLE_DATA);
        }
    }

    /** The unit an inferred placement's descriptor names (see {@link #placeUnit}), or -1. */
    int unitOf(long descriptor) {
        if ((descriptor & L2Entry.COMPRESSED) == 0) return hostCluster(descriptor);
        int i = packed.indexOf(compressedFirstByte(descriptor));
        return i < 0 ? -1 : scan.clusters() + i;
    }

    /** Marks the unit of an inferred placement unused again (the allocation order redoes its guesses). */
    void releaseUnit(long descriptor) {
        int u = unitOf(descriptor);
        if (u < 0) return;
        if (u < scan.clusters()) role[u] = ROLE_NONE;
        else packed.role(u - scan.clusters(), ROLE_NONE);
    }

    /** The first host byte of any placement's descriptor: a host offset, or where its compressed stream starts. */
    long descriptorHostByte(long descriptor) {
        return (descriptor & L2Entry.COMPRESSED) == 0 ? descriptor : compressedFirstByte(descriptor);
    }

    private long compressedFirstByte(long descriptor) {
        return ((L2Entry.Compressed) L2Entry.decode(descriptor, 0, geo, false)).firstHostByte();
    }

    long allBitmap() { return geo.extendedL2() ? 0xffffffffL : 0; }

    private ClusterDecompressor decompressor;

    /** Guest cluster {@code g} of the base (zeros past its end), one cluster long. */
    byte[] baseCluster(long g) throws IOException {
        byte[] out = new byte[geo.clusterSize()];
        long at = g << geo.clusterBits();
        int n = (int) Math.max(0, Math.min(out.length, src.base().size() - at));
        if (n > 0) src.base().read(at, out, 0, n);
        return out;
    }

    /**
     * Unit {@code h} as plaintext if it held guest cluster {@code g}: a host cluster decrypted with
     * the IV that position implies (LUKS: its host offset; legacy AES: {@code g}); a compressed
     * stream decoded (never encrypted).
     */
    ByteBuffer plainAt(int h, long g) throws IOException {
        if (h >= scan.clusters()) return ByteBuffer.wrap(packed.plain(this, h - scan.clusters()));
        ByteBuffer b = cluster(h);
        src.decrypt(scan.hostOffset(h), g << geo.clusterBits(), b.array());
        return b;
    }

    /** Whether a host cluster's plaintext depends on the guest position it is tried at (legacy AES). */
    boolean positionalCipher() { return src.cipher() != null && !src.cipher().ivFromHostOffset(); }

    /** The rescued content of guest cluster {@code g} (placed), one cluster long. */
    byte[] guestCluster(long g) throws IOException {
        byte[] out = new byte[geo.clusterSize()];
        long raw = map.raw(g);
        Placement how = map.method(g);
        boolean inferred = how == Placement.FS_SIGNATURE || how == Placement.EQUAL_GAP || how == Placement.ALLOCATION_ORDER
                || how == Placement.COW_REMNANT || how == Placement.DATA_FILE_OFFSET;
        if (inferred && (raw & L2Entry.COMPRESSED) == 0) {
            if (how == Placement.DATA_FILE_OFFSET) HostScan.readCluster(src.data(), raw, src.dataSize(), ByteBuffer.wrap(out));
            else HostScan.readCluster(in, raw, fileSize, ByteBuffer.wrap(out));
            src.decrypt(raw, g << geo.clusterBits(), out);
            return out;
        }
        switch (L2Entry.decode(raw, map.bitmap(g), geo, src.external())) {
            case L2Entry.Unallocated u -> {
                // extended L2 without a host cluster: zero-flagged subclusters read zeros, the rest the base
                if (src.base() != null) {
                    byte[] b = baseCluster(g);
                    int sub = geo.clusterSize() / 32;
                    for (int s = 0; s < 32; s++) if ((u.bitmap() >>> 32 & (1L << s)) == 0) System.arraycopy(b, s * sub, out, s * sub, sub);
                }
            }
            case L2Entry.Zero z -> { }
            case L2Entry.Normal n -> {
                HostScan.readCluster(src.data(), n.hostOffset(), src.dataSize(), ByteBuffer.wrap(out));
                src.decrypt(n.hostOffset(), g << geo.clusterBits(), out);
                if (geo.extendedL2()) {
                    int sub = geo.clusterSize() / 32;
                    byte[] b = null;
                    for (int s = 0; s < 32; s++) {
                        dev.qcow2.format.SubclusterType t = n.subcluster(s);
                        if (t == dev.qcow2.format.SubclusterType.NORMAL) continue;
                        if (t.readsFromBacking() && src.base() != null) {
                            if (b == null) b = baseCluster(g);
                            System.arraycopy(b, s * sub, out, s * sub, sub);
                        } else {
                            java.util.Arrays.fill(out, s * sub, (s + 1) * sub, (byte) 0);
                        }
                    }
                }
            }
            case L2Entry.Compressed c -> decompressInto(c, out);
        }
        return out;
    }

    /**
     * The cluster compressed entry {@code c} holds, decoded with the header's codec (header
     * lost: zlib, else zstd). An empty range (past the end of the file) decodes to zeros.
     */
    void decompressInto(L2Entry.Compressed c, byte[] out) throws IOException {
        long end = Math.min(c.lastHostByte() + 1, fileSize);
        int len = (int) (end - c.firstHostByte());
        if (len <= 0) return;
        byte[] packed = in.read(c.firstHostByte(), len);
        if (decompressor == null) decompressor = ClusterDecompressor.of(CompressionType.of(header == null ? 0 : header.compressionType()));
        if (!decompressor.decompress(packed, len, out)) {
            ClusterDecompressor other = ClusterDecompressor.of(header == null || header.compressionType() == 0 ? CompressionType.ZSTD : CompressionType.ZLIB);
            if (!other.decompress(packed, len, out)) throw new IOException("compressed cluster at 0x" + Long.toHexString(c.firstHostByte()) + " does not decompress");
        }
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
    }
}
