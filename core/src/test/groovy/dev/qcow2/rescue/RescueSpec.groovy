package dev.qcow2.rescue

import dev.qcow2.Qcow2Exception
import dev.qcow2.testing.Damage
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * {@link Rescuer} over images holding a real ext4 file system (mkfs.ext4 -d, files of random
 * bytes in two directories), converted by qemu-img (host order = guest order), with one kind of
 * metadata zeroed per row. A row counts as recovered when every file debugfs extracts from the
 * rescued image has its original sha256. Needs e2fsprogs and qemu-img: fails when they are missing.
 */
class RescueSpec extends Specification {
    /**
     * Compressed images (qemu-img convert -c: metadata blocks compressed, random file data stored
     * whole) lose their tables like the others: the streams are found by decoding and placed as
     * units of their own; orphan L2 tables are anchored by a compressed superblock they map.
     */
    static final List ROWS = [['converted', 'compressed'], ['4k', '64k', '2M'], ['header', 'l1', 'l2', 'refcount', 'header+l1', 'all']].combinations() +
            [['zstd'], ['4k', '64k'], ['l1', 'l2', 'all']].combinations()

    @Shared @TempDir Path dir
    @Shared Path fsRaw
    @Shared Map<String, String> expected = [:]

    def setupSpec() {
        Qemu.requireTools()
        def src = dir.resolve('src')
        expected.putAll(RescueFixtures.randomFiles(src, 14, 10, 180_000))
        fsRaw = dir.resolve('fs.raw')
        new RandomAccessFile(fsRaw.toFile(), "rw").withCloseable { it.setLength(8L << 20) }
        run(['mkfs.ext4', '-q', '-F', '-b', '4096', '-d', src.toString(), fsRaw.toString()])
    }

    static void run(List<String> cmd) {
        def r = Qemu.run(cmd)
        assert r.exit == 0: "${cmd[0]} failed: ${r.err}"
    }

    /** Files whose debugfs extraction from {@code image} has the original sha256. */
    int intactFiles(Path image) {
        def raw = dir.resolve("check-${image.fileName}.raw")
        Qemu.img('convert', '-O', 'raw', image.toString(), raw.toString())
        int ok = 0
        expected.each { name, sha ->
            def out = dir.resolve('extracted')
            Files.deleteIfExists(out)
            Qemu.run(['debugfs', '-R', "dump /$name ${out}".toString(), raw.toString()])
            if (Files.exists(out) && Sha256.of(Files.readAllBytes(out)) == sha) ok++
        }
        Files.delete(raw)
        ok
    }

    /** Zeroes the structures named by {@code what} (header, l1, l2, refcount, all) in place. */
    static void damage(Path f, String what) {
        int cs = 1 << Damage.getInt(f, Damage.CLUSTER_BITS)
        long l1Off = Damage.getLong(f, Damage.L1_TABLE_OFFSET), l1Size = Damage.getInt(f, Damage.L1_SIZE)
        long rtOff = Damage.getLong(f, Damage.REFCOUNT_TABLE_OFFSET), rtClusters = Damage.getInt(f, Damage.REFCOUNT_TABLE_CLUSTERS)
        def l2s = (0..<l1Size).collect { Damage.getLong(f, l1Off + 8 * it) & 0x00ff_ffff_ffff_fe00L }.findAll { it != 0 }
        def refblocks = (0..<(rtClusters * cs / 8)).collect { Damage.getLong(f, rtOff + 8 * it) }.findAll { it != 0 }
        def zero = { long at, long n -> Damage.putBytes(f, at, new byte[(int) n]) }
        what.split('\\+').each { w ->
            if (w in ['header', 'all']) zero(0, cs)
            if (w in ['l1', 'all']) zero(l1Off, l1Size * 8)
            if (w in ['l2', 'all']) l2s.each { zero(it, cs) }
            if (w in ['refcount', 'all']) { zero(rtOff, rtClusters * cs); refblocks.each { zero(it, cs) } }
        }
    }

    def "#damageKind zeroed in a #clusterSize-cluster #kind image: every file comes back intact"() {
        given:
        def image = dir.resolve("img-$kind-$clusterSize-${damageKind}.qcow2")
        String opts = "cluster_size=$clusterSize" + (kind == 'zstd' ? ',compression_type=zstd' : '')
        Qemu.img(['convert', '-O', 'qcow2', '-o', opts] + (kind in ['compressed', 'zstd'] ? ['-c'] : []) + [fsRaw.toString(), image.toString()])
        damage(image, damageKind)
        String before = Sha256.of(Files.readAllBytes(image))
        def out = dir.resolve("out-$kind-$clusterSize-${damageKind}.qcow2")

        when:
        def report = Rescuer.rescue(image, out)

        then: 'the damaged image is untouched, the rescued one passes qemu-img check and holds every file'
        Sha256.of(Files.readAllBytes(image)) == before
        Qemu.img(['check', out.toString()], false).exit == 0
        intactFiles(out) == expected.size()
        report.placedTotal() > 0
        report.clusterSize() == ['4k': 4096, '64k': 65536, '2M': 2 << 20][clusterSize]

        where:
        [kind, clusterSize, damageKind] << ROWS
    }

    def "the report tells certain placements from inferred ones"() {
        given:
        def image = dir.resolve('report.qcow2')
        Qemu.img('convert', '-O', 'qcow2', fsRaw.toString(), image.toString())
        damage(image, damageKind)

        when:
        def r = Rescuer.rescue(image, dir.resolve('report-out.qcow2'))

        then:
        (r.placedCertain() > 0) == certain
        (r.placedTotal() - r.placedCertain() > 0) == inferred
        r.structures().any { it.kind() == 'header' && it.status() == headerStatus }

        where:
        damageKind | certain | inferred | headerStatus
        'refcount' | true    | false    | 'intact'
        'header'   | true    | false    | 'lost'
        'l2'       | false   | true     | 'intact'
    }

    def "a file with nothing recoverable fails with one line"() {
        given:
        def junk = dir.resolve('junk.bin')
        byte[] b = new byte[1 << 20]
        new Random(1).nextBytes(b)
        Files.write(junk, b)

        when:
        Rescuer.rescue(junk, dir.resolve('junk-out.qcow2'))

        then:
        def e = thrown(Qcow2Exception)
        e.message.contains('nothing recoverable')
        !e.message.contains('\n')
    }

    def "the output may not be the damaged file itself"() {
        given:
        def image = dir.resolve('same.qcow2')
        Qemu.img('convert', '-O', 'qcow2', fsRaw.toString(), image.toString())

        when:
        Rescuer.rescue(image, image)

        then:
        def e = thrown(Qcow2Exception)
        e.message.contains('new file')
    }
}
