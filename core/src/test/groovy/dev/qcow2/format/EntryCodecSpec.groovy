package dev.qcow2.format

import dev.qcow2.storage.MemoryStorage
import dev.qcow2.units.ClusterGeometry
import spock.lang.Specification

/**
 * Every entry decoder of dev.qcow2.format has an encoder beside it, and the two are inverse:
 * decode(encode(x)) == x over 1000 seeded random entries per type, encode(decode(bits)) == bits
 * for valid bit patterns, plus the edge cases in where: tables.
 */
class EntryCodecSpec extends Specification {
    static final long SEED = 20261204L
    static final ClusterGeometry STD_64K = new ClusterGeometry(16, 4, false)

    // ---- L1 ----

    def "L1Entry: decode(encode(x)) == x and encode(decode(bits)) == bits for 1000 random entries"() {
        given:
        Random r = new Random(SEED)

        expect:
        (1..1000).every {
            long offset = r.nextLong() & L1Entry.OFFSET_MASK
            boolean copied = r.nextBoolean()
            L1Entry e = L1Entry.of(offset, copied)
            long bits = r.nextLong() & (L1Entry.OFFSET_MASK | L1Entry.COPIED)
            L1Entry d = new L1Entry(bits)
            e.l2Offset() == offset && e.copied() == copied && e.reservedBits() == 0 &&
                    L1Entry.of(d.l2Offset(), d.copied()).raw() == bits
        }
    }

    def "L1Entry edge case #offset copied=#copied"() {
        expect:
        L1Entry.of(offset, copied).raw() == raw
        new L1Entry(raw).withCopied(!copied).withCopied(copied).raw() == raw

        where:
        offset                 | copied || raw
        0                      | false  || 0
        0                      | true   || L1Entry.COPIED
        0x200                  | false  || 0x200
        L1Entry.OFFSET_MASK    | true   || L1Entry.OFFSET_MASK + L1Entry.COPIED
    }

    def "L1Entry refuses offset #offset"() {
        when:
        L1Entry.of(offset, false)

        then:
        thrown(IllegalArgumentException)

        where:
        offset << [1L, 0x1ffL, 1L << 56, -512L]
    }

    // ---- L2 ----

    def "L2Entry #geo: decode(encode(x)) == x for 1000 random entries of every kind, encode(decode(bits)) == bits"() {
        given:
        Random r = new Random(SEED + geo.clusterBits())
        List<L2Entry> entries = (1..1000).collect { randomL2(r, geo) }

        expect: 'every kind is there'
        entries*.getClass().toSet().size() == (geo.extendedL2() ? 3 : 4)

        and:
        entries.findAll { e -> L2Entry.decode(e.raw(), e.bitmap(), geo, false) != e } == []
        entries.findAll { e -> L2Entry.encode(L2Entry.decode(e.raw(), e.bitmap(), geo, false), geo) != e.raw() } == []
        entries.findAll { e -> L2Entry.slotBytes(e, geo).remaining() != (geo.extendedL2() ? 16 : 8) } == []

        where:
        geo << [new ClusterGeometry(9, 4, false), STD_64K, new ClusterGeometry(21, 4, false),
                new ClusterGeometry(14, 4, true), new ClusterGeometry(16, 4, true)]
    }

    static L2Entry randomL2(Random r, ClusterGeometry geo) {
        long offset = r.nextLong() & L2Entry.OFFSET_MASK
        if (offset == 0) offset = 512
        switch (r.nextInt(4)) {
            case 0:
                return L2Entry.unallocated(geo.extendedL2() ? L2Entry.bitmap(0, r.nextInt()) : 0, geo)
            case 1:
                if (!geo.extendedL2()) return L2Entry.zero(r.nextBoolean() ? 0 : offset, r.nextBoolean())
                // fall through: extended L2 has no zero descriptor
            case 2:
                int alloc = r.nextInt()
                return L2Entry.normal(offset, r.nextBoolean(), L2Entry.bitmap(alloc, r.nextInt() & ~alloc), geo)
            default:
                int x = 62 - (geo.clusterBits() - 8)
                long host = r.nextLong() & ((1L << x) - 1)
                int sectors = 1 + r.nextInt(1 << (geo.clusterBits() - 8))
                return L2Entry.compressed(host, sectors, geo)
        }
    }

    def "compressed descriptor: #bytes bytes at #host with #clusterBits-bit clusters touch #sectors sectors"() {
        given:
        ClusterGeometry geo = new ClusterGeometry(clusterBits, 4, false)

        when:
        L2Entry.Compressed c = L2Entry.compressed(host, L2Entry.sectorsSpanned(host, bytes), geo)

        then:
        c.sectors() == sectors
        c.raw() == raw
        L2Entry.decode(raw, 0, geo, false) == c
        c.compressedLength() >= bytes

        where:
        clusterBits | host                 | bytes || sectors | raw
        16          | 0x1234               | 1     || 1       | L2Entry.COMPRESSED + 0x1234
        16          | 511                  | 2     || 2       | L2Entry.COMPRESSED + (1L << 54) + 511
        16          | 0x10000              | 512   || 1       | L2Entry.COMPRESSED + 0x10000
        16          | 0x10000              | 65535 || 128     | L2Entry.COMPRESSED + (127L << 54) + 0x10000
        16          | 0x100ff              | 65535 || 129     | L2Entry.COMPRESSED + (128L << 54) + 0x100ff
        9           | 0x3ff                | 511   || 2       | L2Entry.COMPRESSED + (1L << 61) + 0x3ff
        21          | (1L << 49) - 1       | 1     || 1       | L2Entry.COMPRESSED + (1L << 49) - 1
    }

    def "compressed descriptor refuses #why"() {
        when:
        L2Entry.compressed(host, sectors, new ClusterGeometry(clusterBits, 4, false))

        then:
        thrown(IllegalArgumentException)

        where:
        why                               | clusterBits | host      | sectors
        'more sectors than the field has' | 9           | 0         | 3
        'no sector'                       | 16          | 0         | 0
        'an offset past bit x'            | 16          | 1L << 54  | 1
    }

    def "L2 standard and zero entries: #what"() {
        expect:
        L2Entry.encode(entry, STD_64K) == raw
        L2Entry.decode(raw, 0, STD_64K, false) == entry

        where:
        what                         | entry                                          || raw
        'unallocated'                | L2Entry.unallocated(0, STD_64K)                || 0
        'zero, no host cluster'      | L2Entry.zero(0, false)                         || L2Entry.ZERO
        'zero, preallocated, copied' | L2Entry.zero(0x30000, true)                    || 0x30000 + L2Entry.ZERO + L2Entry.COPIED
        'normal, copied'             | L2Entry.normal(0x50000, true, 0, STD_64K)      || 0x50000 + L2Entry.COPIED
        'normal, highest offset'     | L2Entry.normal(L2Entry.OFFSET_MASK, false, 0, STD_64K) || L2Entry.OFFSET_MASK
    }

    def "extended L2 bitmap: bitmap(allocated(b), zero(b)) == b for 1000 random bitmaps"() {
        given:
        Random r = new Random(SEED)

        expect:
        (1..1000).every {
            long b = r.nextLong()
            int alloc = r.nextInt(), zero = r.nextInt()
            long made = L2Entry.bitmap(alloc, zero)
            L2Entry.bitmap(L2Entry.allocatedBits(b), L2Entry.zeroBits(b)) == b &&
                    L2Entry.allocatedBits(made) == alloc && L2Entry.zeroBits(made) == zero
        }
        L2Entry.bitmap(-1, 0) == L2Entry.BITMAP_ALL_ALLOC
        L2Entry.bitmap(0, -1) == L2Entry.BITMAP_ALL_ZERO
    }

    // ---- refcount table ----

    def "ReftableEntry: decode(encode(x)) == x and encode(decode(bits)) == bits for 1000 random entries"() {
        given:
        Random r = new Random(SEED)

        expect:
        (1..1000).every {
            long offset = r.nextLong() & ReftableEntry.OFFSET_MASK
            ReftableEntry e = ReftableEntry.of(offset)
            e.refblockOffset() == offset && e.reservedBits() == 0 && e.allocated() == (offset != 0) &&
                    ReftableEntry.of(new ReftableEntry(offset).refblockOffset()).raw() == offset
        }
    }

    def "ReftableEntry refuses unaligned offset #offset"() {
        when:
        ReftableEntry.of(offset)

        then:
        thrown(IllegalArgumentException)

        where:
        offset << [1L, 0x1ffL, 0x10001L]
    }

    // ---- snapshot table ----

    static final long TABLE_AT = 0x10000
    static final long DISK_SIZE = 5L << 30

    static List<SnapshotEntry> decodeTable(byte[] table, int count) {
        byte[] file = new byte[(int) (TABLE_AT + table.length)]
        System.arraycopy(table, 0, file, (int) TABLE_AT, table.length)
        Qcow2Header h = new Qcow2Header.Builder().version(3).clusterBits(16).size(DISK_SIZE)
                .snapshotsOffset(TABLE_AT).nbSnapshots(count).build()
        SnapshotTable.read(new MemoryStorage('table', file), h)
    }

    /** {@code entries} with entryOffset and length where the encoder puts them. */
    static List<SnapshotEntry> placed(List<SnapshotEntry> entries) {
        long at = TABLE_AT
        entries.collect { e ->
            at = (at + 7) & ~7L
            long length = SnapshotTable.entryLength(e)
            def p = new SnapshotEntry(at, e.l1TableOffset(), e.l1Size(), e.id(), e.name(), e.dateSec(), e.dateNsec(),
                    e.vmClockNsec(), e.vmStateSize(), e.extraDataSize(), e.diskSize(), e.hasDiskSize(), e.icount(),
                    e.unknownExtraData(), length)
            at += length
            p
        }
    }

    static SnapshotEntry snapshot(Random r, long extra, String id, String name) {
        byte[] unknown = new byte[(int) (extra > 24 ? extra - 24 : 0)]
        r.nextBytes(unknown)
        long vmState = extra >= 8 ? r.nextLong() >>> 1 : r.nextInt() & 0xffff_ffffL
        if (extra >= 8 && r.nextBoolean()) vmState &= 0xffff_ffffL
        new SnapshotEntry(0, r.nextLong() & ~0xffffL, r.nextInt() & 0xffff_ffffL, id, name,
                r.nextInt() & 0xffff_ffffL, r.nextInt() & 0xffff_ffffL, r.nextLong(), vmState, extra,
                extra >= 16 ? r.nextLong() : DISK_SIZE, extra >= 16, extra >= 24 ? r.nextLong() : -1, unknown, 0)
    }

    static String text(Random r, int max) {
        String chars = 'abcdefghijklmnopqrstuvwxyz0123456789 _-äß€'
        (0..<r.nextInt(max + 1)).collect { chars[r.nextInt(chars.length())] }.join()
    }

    def "SnapshotTable: read(encode(entries)) == entries and encode(read(bytes)) == bytes, 1000 random entries in tables of 1 to 20"() {
        given:
        Random r = new Random(SEED)
        List<List<SnapshotEntry>> tables = []
        int total = 0
        while (total < 1000) {
            int n = 1 + r.nextInt(20)
            tables << (1..n).collect {
                long extra = [0, 8, 16, 24, 24, 24, 32, 24 + r.nextInt(1000)][r.nextInt(8)]
                snapshot(r, extra, text(r, 12), text(r, 40))
            }
            total += n
        }

        expect:
        tables.findAll { t ->
            byte[] bytes = SnapshotTable.encode(t)
            List<SnapshotEntry> back = decodeTable(bytes, t.size())
            back != placed(t) || SnapshotTable.encode(back) != bytes
        } == []
    }

    def "snapshot entry with #extra bytes of extra data, id '#id', name '#name'"() {
        given:
        Random r = new Random(extra)
        SnapshotEntry e = snapshot(r, extra, id, name)
        byte[] bytes = SnapshotTable.encode([e])

        expect:
        bytes.length == 40 + extra + id.getBytes('UTF-8').length + name.getBytes('UTF-8').length
        decodeTable(bytes, 1) == placed([e])
        SnapshotTable.encode(decodeTable(bytes, 1)) == bytes

        where:
        extra | id   | name
        0     | '1'  | 'v2 entry without extra data'
        8     | '2'  | 'vm state only'
        16    | '3'  | 'with disk size'
        24    | '4'  | 'with icount'
        1024  | '5'  | 'largest extra data'
        24    | ''   | ''
        24    | '7'  | 'ünïcödé €'
    }

    // ---- bitmap directory ----

    static final long DIR_AT = 0x20000

    static BitmapDirectoryEntry bitmapEntry(Random r, String name) {
        int flags = r.nextInt(4)
        new BitmapDirectoryEntry(0, (1 + r.nextInt(1 << 20)) * 65536L, 1 + r.nextInt(8192), flags,
                BitmapDirectoryEntry.TYPE_DIRTY_TRACKING, 9 + r.nextInt(23), name, 0)
    }

    static List<BitmapDirectoryEntry> decodeDirectory(byte[] dir, int count) {
        byte[] file = new byte[(int) (DIR_AT + dir.length)]
        System.arraycopy(dir, 0, file, (int) DIR_AT, dir.length)
        def ext = new HeaderExtension.Bitmaps(0, 24, count, 0, dir.length, DIR_AT)
        Qcow2Header h = new Qcow2Header.Builder().version(3).clusterBits(16).size(1 << 20)
                .autoclearFeatures(FeatureBits.AUTOCLEAR_BITMAPS).extensions([ext]).build()
        BitmapDirectory.read(new MemoryStorage('dir', file), h)
    }

    static List<BitmapDirectoryEntry> placedBitmaps(List<BitmapDirectoryEntry> entries) {
        long at = DIR_AT
        entries.collect { e ->
            def p = new BitmapDirectoryEntry(at, e.tableOffset(), e.tableSize(), e.flags(), e.type(), e.granularityBits(),
                    e.name(), e.extraDataSize())
            at += BitmapDirectory.paddedLength(e)
            p
        }
    }

    def "BitmapDirectory: read(encode(entries)) == entries and encode(read(bytes)) == bytes, 1000 random entries"() {
        given:
        Random r = new Random(SEED)
        List<List<BitmapDirectoryEntry>> dirs = []
        int total = 0
        while (total < 1000) {
            int n = 1 + r.nextInt(20)
            dirs << (1..n).collect { i -> bitmapEntry(r, "b$i-" + text(r, 30)) }
            total += n
        }

        expect:
        dirs.findAll { d ->
            byte[] bytes = BitmapDirectory.encode(d)
            List<BitmapDirectoryEntry> back = decodeDirectory(bytes, d.size())
            back != placedBitmaps(d) || BitmapDirectory.encode(back) != bytes
        } == []
    }

    def "bitmap directory entry named '#name' takes #length bytes"() {
        given:
        def e = new BitmapDirectoryEntry(0, 0x30000, 1, BitmapDirectoryEntry.FLAG_AUTO, 1, 16, name, 0)

        expect:
        BitmapDirectory.encode([e]).length == length
        BitmapDirectory.paddedLength(e) == length
        decodeDirectory(BitmapDirectory.encode([e]), 1) == placedBitmaps([e])

        where:
        name        || length
        'a'         || 32
        'abcdefgh'  || 32
        'abcdefghi' || 40
        'x' * 1023  || 1048
    }

    def "bitmap table entries: decode(encode(x)) == x and encode(decode(bits)) == bits for 1000 random entries"() {
        given:
        Random r = new Random(SEED)

        expect:
        (1..1000).every {
            long offset = r.nextLong() & BitmapDirectory.TableEntry.OFFSET_MASK
            if (offset == 0) offset = 512
            boolean ones = r.nextBoolean()
            def stored = BitmapDirectory.TableEntry.at(offset)
            def unstored = BitmapDirectory.TableEntry.unallocated(ones)
            stored.offset() == offset && !stored.allOnes() && stored.reservedBits() == 0 &&
                    unstored.offset() == 0 && unstored.allOnes() == ones && unstored.reservedBits() == 0 &&
                    BitmapDirectory.TableEntry.at(new BitmapDirectory.TableEntry(offset).offset()).raw() == offset
        }
        BitmapDirectory.TableEntry.unallocated(true).raw() == 1
        BitmapDirectory.TableEntry.unallocated(false).raw() == 0
    }
}
