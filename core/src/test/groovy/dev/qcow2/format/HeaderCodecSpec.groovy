package dev.qcow2.format

import dev.qcow2.chain.Progress
import dev.qcow2.chain.Rebase
import dev.qcow2.storage.FileStorage
import dev.qcow2.storage.MemoryStorage
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.file.Files
import java.nio.file.Path

import static dev.qcow2.testing.Damage.*

/**
 * The header encoder is the exact inverse of Qcow2Header.read: cluster 0 of headers qemu-img
 * wrote re-encodes byte for byte, decoding an encoded header gives it back, and every field of
 * the HeaderField table lands at its offset with its width.
 */
class HeaderCodecSpec extends Specification {
    @TempDir Path dir

    static Qcow2Header read(byte[] cluster) {
        Qcow2Header.read(new MemoryStorage('cluster0', cluster))
    }

    static Qcow2Header read(Path f) {
        FileStorage.openReadOnly(f).withCloseable { Qcow2Header.read(it) }
    }

    static byte[] cluster0(Path f, int clusterSize) {
        Arrays.copyOf(Files.readAllBytes(f), clusterSize)   // zeros past the end of the file, as the reader sees them
    }

    /** An image made (or last rewritten) by qemu-img, of the given kind. */
    Path qemuImage(String kind) {
        Path f = dir.resolve('h.qcow2')
        switch (kind) {
            case 'v2': return Qemu.create(f, '1M', 'compat=0.10')
            case 'v3': return Qemu.create(f, '1M', 'compat=1.1')
            case 'v3 512-byte clusters': return Qemu.create(f, '3M', 'cluster_size=512,refcount_bits=1')
            case 'v3 2M clusters': return Qemu.create(f, '100M', 'cluster_size=2M,refcount_bits=64')
            case 'zstd': return Qemu.create(f, '1M', 'compression_type=zstd')
            case 'extended L2': return Qemu.create(f, '1G', 'extended_l2=on,cluster_size=128k')
            case 'lazy refcounts': return Qemu.create(f, '1T', 'lazy_refcounts=on')
            case 'v3 with backing':
                Qemu.create(dir.resolve('base.qcow2'), '1M')
                return Qemu.create(f, '1M', null, ['-b', 'base.qcow2', '-F', 'qcow2'])
            case 'v2 with backing':
                Qemu.create(dir.resolve('base.qcow2'), '1M')
                return Qemu.create(f, '1M', 'compat=0.10', ['-b', 'base.qcow2', '-F', 'raw'])
            case 'backing set by rebase -u':
                Qemu.create(f, '1M')
                Qemu.img('rebase', '-u', '-f', 'qcow2', '-b', 'some/where/base.raw', '-F', 'raw', f.toString())
                return f
            case 'external data file':
                return Qemu.create(f, '1M', 'data_file=d.raw,data_file_raw=on')
            case 'external data file, not raw':
                return Qemu.create(f, '1M', 'data_file=d.raw')
            case 'bitmaps':
                Qemu.create(f, '1M')
                Qemu.img('bitmap', '--add', f.toString(), 'b0')
                return f
            case 'LUKS':
                return Qemu.createLuks(f, '1M', 'encrypt.iter-time=10')
            case 'unknown fields and extension, rewritten by qemu':
                // header_length 120 with 8 unknown bytes, an unknown extension before the end
                // marker; then qemu-img amend rewrites cluster 0 (qcow2_update_header keeps both).
                Qemu.create(f, '1M')
                byte[] extensions = Files.readAllBytes(f)[112..<4000] as byte[]
                putInt(f, HEADER_LENGTH, 120)
                putBytes(f, 112, [1, 2, 3, 4, 5, 6, 7, 8] as byte[])
                putBytes(f, 120, extensions)
                def unknown = ByteBuffer.allocate(24).putInt(0x12345678).putInt(5).put('hello'.bytes).put(new byte[3])
                putBytes(f, extensionOffset(f, 0), unknown.array())
                Qemu.img('amend', '-f', 'qcow2', '-o', 'lazy_refcounts=on', f.toString())
                return f
        }
        throw new IllegalArgumentException(kind)
    }

    def "#kind: encode(read(cluster 0)) is cluster 0 byte for byte, and read(encode(h)) is h"() {
        given:
        Path f = qemuImage(kind)
        Qcow2Header h = read(f)
        byte[] cluster = cluster0(f, h.clusterSize())

        when:
        byte[] encoded = Qcow2HeaderEncoder.encode(h)

        then:
        encoded == cluster
        read(encoded) == h

        and: 'the image has what the row is about'
        check(h)

        where:
        kind                                               || check
        'v2'                                               || { Qcow2Header x -> x.version() == 2 && x.headerLength() == 72 }
        'v3'                                               || { Qcow2Header x -> x.featureNames().size() == 8 }
        'v3 512-byte clusters'                             || { Qcow2Header x -> x.featureNames().isEmpty() && x.refcountOrder() == 0 }
        'v3 2M clusters'                                   || { Qcow2Header x -> x.clusterBits() == 21 && x.refcountOrder() == 6 }
        'zstd'                                             || { Qcow2Header x -> x.compressionType() == 1 }
        'extended L2'                                      || { Qcow2Header x -> x.hasExtendedL2() }
        'lazy refcounts'                                   || { Qcow2Header x -> x.lazyRefcounts() }
        'v3 with backing'                                  || { Qcow2Header x -> x.backingFileName() == 'base.qcow2' && x.backingFormat().get() == 'qcow2' }
        'v2 with backing'                                  || { Qcow2Header x -> x.version() == 2 && x.backingFormat().get() == 'raw' }
        'backing set by rebase -u'                         || { Qcow2Header x -> x.backingFileName() == 'some/where/base.raw' }
        'external data file'                               || { Qcow2Header x -> x.externalDataFile().get() == 'd.raw' && x.dataFileRaw() }
        'bitmaps'                                          || { Qcow2Header x -> x.extension(HeaderExtension.Bitmaps).isPresent() }
        'LUKS'                                             || { Qcow2Header x -> x.extension(HeaderExtension.CryptoHeader).isPresent() }
        'unknown fields and extension, rewritten by qemu'  || { Qcow2Header x ->
            x.unknownHeaderFields() == [1, 2, 3, 4, 5, 6, 7, 8] as byte[] && x.lazyRefcounts() &&
                    x.extensions().any { it instanceof HeaderExtension.Unknown && it.type() == 0x12345678 } }
    }

    def "#kind: an unsafe rebase (QemuHeaderLayout + the encoder) writes cluster 0 as qemu-img rebase -u does"() {
        given:
        Path src = qemuImage(kind)
        Path ours = twin(src, 'ours')
        Path theirs = twin(src, 'theirs')
        int clusterSize = read(src).clusterSize()

        when:
        Rebase.rebase(ours, new Rebase.Options('new/base.img', 'raw', true), Progress.NONE)
        Qemu.img('rebase', '-q', '-u', '-f', 'qcow2', '-b', 'new/base.img', '-F', 'raw', theirs.toString())

        then:
        cluster0(ours, clusterSize) == cluster0(theirs, clusterSize)
        read(ours).backingFileName() == 'new/base.img'

        where:
        kind << ['v2', 'v3', 'v3 512-byte clusters', 'v3 with backing', 'v2 with backing', 'zstd', 'extended L2',
                 'external data file, not raw', 'unknown fields and extension, rewritten by qemu']
    }

    /** A copy of {@code image}'s directory (its files, e.g. an external data file) in {@code name}/; the image in it. */
    Path twin(Path image, String name) {
        Path to = Files.createDirectories(dir.resolve(name))
        Files.list(dir).withCloseable { files ->
            files.filter { Files.isRegularFile(it) }.forEach { Files.copy(it, to.resolve(it.fileName)) }
        }
        to.resolve(image.fileName)
    }

    def "read(encode(h)) == h for 1000 random headers laid out as QEMU does (seed #seed)"() {
        given:
        Random random = new Random(seed)

        when:
        List<Qcow2Header> headers = (1..1000).collect { randomHeader(random) }

        then:
        headers.findAll { read(Qcow2HeaderEncoder.encode(it)) != it } == []
        headers.count { it.version() == 2 } > 300
        headers.count { it.backingFileName() != null } > 300
        headers.count { it.extensions().any { e -> e instanceof HeaderExtension.Unknown } } > 300

        where:
        seed << [42L, 20261204L]
    }

    def "HeaderField #field: offset #offset, width #width, since version #since, encoded and decoded there"() {
        given: 'a header with a distinct value in every field'
        Qcow2Header h = sample()
        byte[] encoded = Qcow2HeaderEncoder.encode(h)

        expect:
        field.offset() == offset
        field.width() == width
        field.sinceVersion() == since
        field.of(h) == value
        field.get(ByteBuffer.wrap(encoded)) == value
        field.of(read(encoded)) == value
        HeaderField.patch(field.is(value)).offset() == offset
        HeaderField.patch(field.is(value)).bytes() == Arrays.copyOfRange(encoded, offset, offset + width)
        field.decode(Arrays.copyOfRange(encoded, offset, offset + width)) == value

        where:
        field                                 | offset | width | since || value
        HeaderField.MAGIC                     | 0      | 4     | 2     || 0x514649FB
        HeaderField.VERSION                   | 4      | 4     | 2     || 3
        HeaderField.BACKING_FILE_OFFSET       | 8      | 8     | 2     || 120 + 8 + 8 + 8
        HeaderField.BACKING_FILE_SIZE         | 16     | 4     | 2     || 'b.img'.length()
        HeaderField.CLUSTER_BITS              | 20     | 4     | 2     || 12
        HeaderField.SIZE                      | 24     | 8     | 2     || 5L << 30
        HeaderField.CRYPT_METHOD              | 32     | 4     | 2     || 2
        HeaderField.L1_SIZE                   | 36     | 4     | 2     || 3000
        HeaderField.L1_TABLE_OFFSET           | 40     | 8     | 2     || 0x5000
        HeaderField.REFCOUNT_TABLE_OFFSET     | 48     | 8     | 2     || 0x3000
        HeaderField.REFCOUNT_TABLE_CLUSTERS   | 56     | 4     | 2     || 7
        HeaderField.NB_SNAPSHOTS              | 60     | 4     | 2     || 9
        HeaderField.SNAPSHOTS_OFFSET          | 64     | 8     | 2     || 0x7000
        HeaderField.INCOMPATIBLE_FEATURES     | 72     | 8     | 3     || 0x9L  // dirty, compression type
        HeaderField.COMPATIBLE_FEATURES       | 80     | 8     | 3     || 0x8000_0000_0000_0001L
        HeaderField.AUTOCLEAR_FEATURES        | 88     | 8     | 3     || 0x4000_0000_0000_0002L
        HeaderField.REFCOUNT_ORDER            | 96     | 4     | 3     || 5
        HeaderField.HEADER_LENGTH             | 100    | 4     | 3     || 120
        HeaderField.COMPRESSION_TYPE          | 104    | 1     | 3     || 1
    }

    def "the where: table above covers every header field"() {
        expect:
        HeaderField.values().size() == 19
        HeaderField.values().collect { it.qemuName() } == sample().fields().collect { it[0] }
    }

    def "a patch of adjacent fields is one write; fields out of order or apart, or too wide a value, are refused"() {
        when:
        def p = HeaderField.patch(HeaderField.L1_SIZE.is(3), HeaderField.L1_TABLE_OFFSET.is(0x10000))

        then:
        p.offset() == 36
        p.bytes() == [0, 0, 0, 3, 0, 0, 0, 0, 0, 1, 0, 0] as byte[]

        when:
        HeaderField.patch(HeaderField.L1_TABLE_OFFSET.is(1), HeaderField.L1_SIZE.is(1))

        then:
        thrown(IllegalArgumentException)

        when:
        HeaderField.patch(HeaderField.SIZE.is(1), HeaderField.L1_SIZE.is(1))

        then:
        thrown(IllegalArgumentException)

        when:
        HeaderField.NB_SNAPSHOTS.is(1L << 32)

        then:
        thrown(IllegalArgumentException)
    }

    def "QEMU's layout: #why does not fit"() {
        given:
        Qcow2Header fields = new Qcow2Header.Builder().version(3).clusterBits(9).size(1 << 20).l1Size(32)
                .l1TableOffset(512 * 3).refcountTableOffset(512).refcountTableClusters(1).refcountOrder(4)
                .backingFileName(name).extensions(extensions).build()

        when:
        QemuHeaderLayout.layout(fields, null, null)

        then:
        def e = thrown(QemuHeaderLayout.NoRoomException)
        e.overflow() == overflow

        where:
        why                         | name          | extensions                                                           || overflow
        'a 1024-byte name'          | 'n' * 1024    | []                                                                   || QemuHeaderLayout.Overflow.BACKING_FILE_NAME
        'a name past the cluster'   | 'n' * 400     | []                                                                   || QemuHeaderLayout.Overflow.BACKING_FILE_NAME
        'a 400-byte extension'      | null          | [new HeaderExtension.Unknown(0, 0x1234, new byte[400])]              || QemuHeaderLayout.Overflow.EXTENSIONS
    }

    /** Every field set, none to a value another field has, and valid for the reader. */
    static Qcow2Header sample() {
        Qcow2Header fields = new Qcow2Header.Builder().version(3).clusterBits(12).size(5L << 30).cryptMethod(2)
                .l1Size(3000).l1TableOffset(0x5000).refcountTableOffset(0x3000).refcountTableClusters(7)
                .nbSnapshots(9).snapshotsOffset(0x7000)
                .incompatibleFeatures(FeatureBits.INCOMPAT_DIRTY | FeatureBits.INCOMPAT_COMPRESSION)   // 0x9
                .compatibleFeatures(0x8000_0000_0000_0001L).autoclearFeatures(0x4000_0000_0000_0002L)
                .refcountOrder(5).compressionType(1).unknownHeaderFields([9, 8, 7, 6, 5, 4, 3, 2] as byte[])
                .backingFileName('b.img').build()
        QemuHeaderLayout.layout(fields, 'raw', null)
    }

    static final int[] KNOWN_TYPES = [HeaderExtension.BACKING_FORMAT, HeaderExtension.FEATURE_NAME_TABLE,
                                      HeaderExtension.BITMAPS, HeaderExtension.CRYPTO_HEADER,
                                      HeaderExtension.EXTERNAL_DATA_FILE, 0]

    /** A header the reader accepts, with random fields, extensions and name, laid out by QemuHeaderLayout. */
    static Qcow2Header randomHeader(Random r) {
        int version = r.nextBoolean() ? 2 : 3
        int clusterBits = 9 + r.nextInt(8)
        int clusterSize = 1 << clusterBits
        boolean extL2 = version == 3 && clusterBits >= 14 && r.nextBoolean()
        long size = r.nextLong() & ((1L << 36) - 1)
        int shift = clusterBits + clusterBits - (extL2 ? 4 : 3)
        long l1Needed = (size + (1L << shift) - 1) >>> shift
        long alignedMask = ((1L << 50) - 1) & ~(clusterSize - 1L)
        def b = new Qcow2Header.Builder().version(version).clusterBits(clusterBits).size(size)
                .cryptMethod(r.nextInt(3)).l1Size(l1Needed + r.nextInt(100))
                .l1TableOffset(r.nextLong() & alignedMask).refcountTableOffset(r.nextLong() & alignedMask)
                .refcountTableClusters(1 + r.nextInt(16)).nbSnapshots(r.nextInt(1000))
                .snapshotsOffset(r.nextLong() & alignedMask)
        if (version == 3) {
            int compression = r.nextInt(2)
            long incompatible = (r.nextLong() & (FeatureBits.INCOMPAT_DIRTY | FeatureBits.INCOMPAT_CORRUPT | FeatureBits.INCOMPAT_DATA_FILE)) |
                    (compression == 1 ? FeatureBits.INCOMPAT_COMPRESSION : 0) | (extL2 ? FeatureBits.INCOMPAT_EXTL2 : 0)
            byte[] unknown = new byte[8 * r.nextInt(3)]
            r.nextBytes(unknown)
            b.incompatibleFeatures(incompatible).compatibleFeatures(r.nextLong())
                    .autoclearFeatures(r.nextLong() & ~FeatureBits.AUTOCLEAR_BITMAPS)
                    .refcountOrder(r.nextInt(7)).compressionType(compression).unknownHeaderFields(unknown)
        }
        List<HeaderExtension> kept = []
        if (r.nextBoolean()) kept << new HeaderExtension.CryptoHeader(0, 16, r.nextLong(), r.nextLong())
        if (r.nextBoolean()) {
            kept << new HeaderExtension.Bitmaps(0, 24, r.nextInt() & 0xffff_ffffL, r.nextInt() & 0xffff_ffffL,
                    r.nextLong(), r.nextLong())
        }
        for (int i = r.nextInt(3); i > 0; i--) {
            int type = r.nextInt()
            if (type in KNOWN_TYPES) continue
            byte[] data = new byte[r.nextInt(21)]
            r.nextBytes(data)
            kept << new HeaderExtension.Unknown(0, type, data)
        }
        b.extensions(kept).backingFileName(r.nextBoolean() ? randomName(r, 1 + r.nextInt(60)) : null)
        String format = r.nextBoolean() ? randomName(r, 1 + r.nextInt(15)) : null
        String dataFile = r.nextBoolean() ? randomName(r, 1 + r.nextInt(40)) : null
        QemuHeaderLayout.layout(b.build(), format, dataFile)
    }

    static String randomName(Random r, int length) {
        String chars = 'abcdefghijklmnopqrstuvwxyz0123456789./-_'
        (1..length).collect { chars[r.nextInt(chars.length())] }.join()
    }
}
