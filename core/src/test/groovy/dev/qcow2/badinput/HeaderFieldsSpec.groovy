package dev.qcow2.badinput

import dev.qcow2.testing.Sha256

import dev.qcow2.testing.Damage

import dev.qcow2.CorruptImageException
import dev.qcow2.ImageLimitException
import dev.qcow2.Qcow2Exception
import dev.qcow2.UnsupportedFeatureException
import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.Timeout

import java.nio.file.Files
import java.nio.file.Path

import static dev.qcow2.testing.Damage.*

/**
 * Every header field out of range (qcow2.rst "Header"), and files too short or not qcow2 at all:
 * qemu-img (forced to the qcow2 driver) refuses each with a reason, and so do we - the same
 * reason text, in one line that starts with the file name, as a Qcow2Exception subclass, without
 * changing a byte of the file.
 */
@Timeout(30)
class HeaderFieldsSpec extends Specification {
    static final long FEATURE_NAME_TABLE = 0x6803f857L

    @Shared Path dir
    @Shared Path v3, zstd, small

    def setupSpec() {
        dir = Files.createTempDirectory('qcow2-header-fields')
        v3 = Qemu.create(dir.resolve('v3.qcow2'), '1M')
        Qemu.io(v3, 'write -P 0x5a 0 64k')
        zstd = Qemu.create(dir.resolve('zstd.qcow2'), '1M', 'compression_type=zstd')
        small = Qemu.create(dir.resolve('small.qcow2'), '1M', 'cluster_size=512')
    }

    def cleanupSpec() { dir?.toFile()?.deleteDir() }

    def "#problem: refused like qemu-img, reason '#reason'"() {
        given: 'a damaged copy of a valid image'
        Path f = copy(base == 'zstd' ? zstd : base == 'small' ? small : v3, "${problem.replaceAll(/\W+/, '-')}.qcow2")
        damage(f)
        String before = Sha256.of(f)

        expect: 'qemu-img gives this reason'
        qemuRefusal(['info', '-f', 'qcow2', f.toString()]).contains(reason)

        when:
        exercise(f)

        then:
        Qcow2Exception e = thrown()
        type.isInstance(e)
        e.message.startsWith(f.toString() + ': ')
        e.message.contains(reason)
        !e.message.contains('\n')
        Sha256.of(f) == before

        where:
        problem                                | base    | damage                                                         || type                        | reason
        'empty file'                           | 'v3'    | { Path p -> truncate(p, 0) }                                   || Qcow2Exception              | 'Image is not in qcow2 format'
        '3-byte file'                          | 'v3'    | { Path p -> truncate(p, 3) }                                   || Qcow2Exception              | 'Image is not in qcow2 format'
        'garbage'                              | 'v3'    | { Path p -> putBytes(p, 0, garbage(70000)) }                   || Qcow2Exception              | 'Image is not in qcow2 format'
        'wrong magic'                          | 'v3'    | { Path p -> putInt(p, 0, 0x514649FA) }                         || Qcow2Exception              | 'Image is not in qcow2 format'
        'header truncated at 50 bytes'         | 'v3'    | { Path p -> truncate(p, 50) }                                  || CorruptImageException       | 'qcow2 header too short'
        'v3 header truncated at 100 bytes'     | 'v3'    | { Path p -> truncate(p, 100) }                                 || CorruptImageException       | 'qcow2 header too short'
        'version 1'                            | 'v3'    | { Path p -> putInt(p, VERSION, 1) }                            || UnsupportedFeatureException | 'Unsupported qcow2 version 1'
        'version 4'                            | 'v3'    | { Path p -> putInt(p, VERSION, 4) }                            || UnsupportedFeatureException | 'Unsupported qcow2 version 4'
        'cluster_bits 8'                       | 'v3'    | { Path p -> putInt(p, CLUSTER_BITS, 8) }                       || UnsupportedFeatureException | 'Unsupported cluster size: 2^8'
        'cluster_bits 22'                      | 'v3'    | { Path p -> putInt(p, CLUSTER_BITS, 22) }                      || UnsupportedFeatureException | 'Unsupported cluster size: 2^22'
        'cluster_bits 0xFFFFFFFF'              | 'v3'    | { Path p -> putInt(p, CLUSTER_BITS, 0xFFFFFFFFL) }             || UnsupportedFeatureException | 'Unsupported cluster size: 2^4294967295'
        'header_length 100 (< 104)'            | 'v3'    | { Path p -> putInt(p, HEADER_LENGTH, 100) }                    || CorruptImageException       | 'qcow2 header too short'
        'header_length > cluster size'         | 'v3'    | { Path p -> putInt(p, HEADER_LENGTH, 65544) }                  || CorruptImageException       | 'qcow2 header exceeds cluster size'
        // QEMU takes any length >= 104; 113 puts the extension walk on a misaligned, garbage header
        'header_length 113 (not a multiple of 8)' | 'v3' | { Path p -> putInt(p, HEADER_LENGTH, 113) }                    || CorruptImageException       | 'Header extension too large'
        'backing_file_offset > cluster size'   | 'v3'    | { Path p -> putLong(p, BACKING_FILE_OFFSET, 70000); putInt(p, BACKING_FILE_SIZE, 4) } || CorruptImageException | 'Invalid backing file offset'
        'backing name of 1024 bytes'           | 'v3'    | { Path p -> putLong(p, BACKING_FILE_OFFSET, 4096); putInt(p, BACKING_FILE_SIZE, 1024) } || CorruptImageException | 'Backing file name too long'
        'backing name past the cluster end'    | 'small' | { Path p -> putLong(p, BACKING_FILE_OFFSET, 400); putInt(p, BACKING_FILE_SIZE, 200) } || CorruptImageException | 'Backing file name too long'
        'refcount_order 7'                     | 'v3'    | { Path p -> putInt(p, REFCOUNT_ORDER, 7) }                     || UnsupportedFeatureException | 'Reference count entry width too large; may not exceed 64 bits'
        'unknown incompatible bit 20'          | 'v3'    | { Path p -> putLong(p, INCOMPATIBLE_FEATURES, 1L << 20) }      || UnsupportedFeatureException | 'Unsupported qcow2 feature(s): Unknown incompatible feature: 100000'
        'unknown incompatible bit, named'      | 'v3'    | { Path p -> nameBit20(p, 'my fancy feature') }                 || UnsupportedFeatureException | 'Unsupported qcow2 feature(s): my fancy feature'
        'compression type 2'                   | 'v3'    | { Path p -> putLong(p, INCOMPATIBLE_FEATURES, 8); putByte(p, COMPRESSION_TYPE, 2) } || UnsupportedFeatureException | 'qcow2: unknown compression type: 2'
        'compression bit set with zlib'        | 'v3'    | { Path p -> putLong(p, INCOMPATIBLE_FEATURES, 8) }             || CorruptImageException       | 'Compression type incompatible feature bit must not be set'
        'compression bit unset with zstd'      | 'zstd'  | { Path p -> putLong(p, INCOMPATIBLE_FEATURES, 0) }             || CorruptImageException       | 'Compression type incompatible feature bit must be set'
        'crypt_method 3'                       | 'v3'    | { Path p -> putInt(p, CRYPT_METHOD, 3) }                       || UnsupportedFeatureException | 'Unsupported encryption method 3'
        'l1_size smaller than needed'          | 'v3'    | { Path p -> putLong(p, SIZE, 1L << 34) }                       || CorruptImageException       | 'L1 table is too small'
        'l1_size huge (> 32 MiB / 8)'          | 'v3'    | { Path p -> putInt(p, L1_SIZE, (32L << 20).intdiv(8) + 1) }          || ImageLimitException         | 'Active L1 table too large'
        'l1_size 0xFFFFFFFF'                   | 'v3'    | { Path p -> putInt(p, L1_SIZE, 0xFFFFFFFFL) }                  || ImageLimitException         | 'Active L1 table too large'
        'l1_table_offset unaligned'            | 'v3'    | { Path p -> putLong(p, L1_TABLE_OFFSET, 0x30008) }             || CorruptImageException       | 'Active L1 table offset invalid'
        'refcount_table_clusters huge'         | 'v3'    | { Path p -> putInt(p, REFCOUNT_TABLE_CLUSTERS, 0xFFFFFFFFL) }  || ImageLimitException         | 'Reference count table too large'
        'refcount_table_clusters 0'            | 'v3'    | { Path p -> putInt(p, REFCOUNT_TABLE_CLUSTERS, 0) }            || CorruptImageException       | 'Image does not contain a reference count table'
        'refcount_table_offset unaligned'      | 'v3'    | { Path p -> putLong(p, REFCOUNT_TABLE_OFFSET, 0x10200) }        || CorruptImageException       | 'Reference count table offset invalid'
        'nb_snapshots 0xFFFFFFFF'              | 'v3'    | { Path p -> putInt(p, NB_SNAPSHOTS, 0xFFFFFFFFL) }             || ImageLimitException         | 'Snapshot table too large'
        'snapshots_offset unaligned'           | 'v3'    | { Path p -> putInt(p, NB_SNAPSHOTS, 1); putLong(p, SNAPSHOTS_OFFSET, 0x104) } || CorruptImageException | 'Snapshot table offset invalid'
        'virtual size 2^62, 512-byte clusters' | 'small' | { Path p -> putLong(p, SIZE, 1L << 62) }                       || ImageLimitException         | 'Image is too big'
        'virtual size 2^62, 64 KiB clusters'   | 'v3'    | { Path p -> putLong(p, SIZE, 1L << 62) }                       || ImageLimitException         | 'Image is too big'
        'virtual size 2^63'                    | 'v3'    | { Path p -> putLong(p, SIZE, Long.MIN_VALUE) }                 || ImageLimitException         | 'Image is too big'
        'virtual size 2^40, 512-byte clusters' | 'small' | { Path p -> putLong(p, SIZE, 1L << 40) }                       || CorruptImageException       | 'L1 table is too small'
    }

    static byte[] garbage(int n) {
        def bytes = new byte[n]
        new Random(42).nextBytes(bytes)
        bytes
    }

    /** Sets incompatible bit 20 and names it in the first entry of the feature-name table. */
    static void nameBit20(Path p, String name) {
        putLong(p, INCOMPATIBLE_FEATURES, 1L << 20)
        long table = extensionOffset(p, FEATURE_NAME_TABLE)
        assert table > 0
        byte[] entry = new byte[48]
        entry[0] = 0          // type: incompatible
        entry[1] = 20         // bit number
        System.arraycopy(name.bytes, 0, entry, 2, name.length())
        putBytes(p, table + 8, entry)
    }
}
