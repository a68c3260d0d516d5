package dev.qcow2.rescue

import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.file.Files
import java.nio.file.Path

/**
 * {@link Rescuer} over images holding a real FAT file system (dosfstools' mkfs.fat, files of
 * random bytes copied in with mtools), FAT12, FAT16 and FAT32, on the whole disk or in an MBR
 * partition at 1 MiB, converted by qemu-img (host order = guest order), with one kind of
 * metadata zeroed per row. A row counts as recovered when every file mtools extracts from the
 * rescued image has its original sha256. Needs dosfstools, mtools and qemu-img: fails when they
 * are missing.
 */
class RescueFatSpec extends Specification {
    /** [file system, cluster size, damage]: every damage on FAT16 and FAT32 at 64 KiB, the hard ones at the other sizes and layouts. */
    static final List ROWS = [['fat16', 'fat32'], ['64k'], ['header', 'l1', 'l2', 'refcount', 'header+l1', 'all']].combinations() +
            [['fat12', 'fat16', 'fat32', 'fat16-mbr', 'fat32-mbr'], ['4k', '2M'], ['l2', 'all']].combinations() +
            [['fat12', 'fat16-mbr', 'fat32-mbr'], ['64k'], ['l2', 'all']].combinations()

    @Shared @TempDir Path dir
    @Shared Map<String, String> expected = [:]
    @Shared Map<String, Path> raws = [:]

    def setupSpec() {
        Qemu.requireTools()
        def src = dir.resolve('src')
        expected.putAll(RescueFixtures.randomFiles(src, 16, 10, 150_000))
        // FAT32 needs 65525 clusters: 512-byte clusters on 40 MiB
        [fat12: [12, 4, []], fat16: [16, 16, []], fat32: [32, 40, ['-s', '1']]].each { name, spec ->
            Path fs = dir.resolve("${name}.raw")
            new RandomAccessFile(fs.toFile(), 'rw').withCloseable { it.setLength((spec[1] as long) << 20) }
            run(['mkfs.fat', '-F', "${spec[0]}".toString()] + spec[2] + [fs.toString()])
            run(['mmd', '-i', fs.toString(), '::/docs', '::/docs/deep'])
            expected.keySet().each { f -> run(['mcopy', '-i', fs.toString(), src.resolve(f).toString(), "::/$f".toString()]) }
            raws[name] = fs
            raws["${name}-mbr".toString()] = partitioned(fs, spec[0] == 32 ? 0x0C : 0x06)
        }
    }

    /** A disk with an MBR whose one partition (type {@code type}) starts at 1 MiB and holds {@code fs}. */
    static Path partitioned(Path fs, int type) {
        Path disk = fs.resolveSibling(fs.fileName.toString().replace('.raw', '-mbr.raw'))
        long start = 2048, sectors = Files.size(fs) / 512
        byte[] mbr = new byte[512]
        ByteBuffer b = ByteBuffer.wrap(mbr).order(ByteOrder.LITTLE_ENDIAN)
        b.put(446 + 4, (byte) type)
        b.putInt(446 + 8, (int) start)
        b.putInt(446 + 12, (int) sectors)
        b.putShort(510, (short) 0xAA55)
        new RandomAccessFile(disk.toFile(), 'rw').withCloseable { f ->
            f.setLength(start * 512 + Files.size(fs))
            f.write(mbr)
            f.seek(start * 512)
            f.write(Files.readAllBytes(fs))
        }
        disk
    }

    static void run(List<String> cmd) {
        def pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        pb.environment().MTOOLS_SKIP_CHECK = '1'
        def p = pb.start()
        String out = p.inputStream.text
        assert p.waitFor() == 0: "${cmd[0]} failed (install dosfstools and mtools): $out"
    }

    /** Files whose mtools extraction from {@code image} has the original sha256. */
    int intactFiles(Path image, boolean mbr) {
        def raw = dir.resolve("check-${image.fileName}.raw")
        Qemu.img('convert', '-O', 'raw', image.toString(), raw.toString())
        String drive = raw.toString() + (mbr ? '@@1M' : '')
        int ok = 0
        expected.each { name, sha ->
            def out = dir.resolve('extracted')
            Files.deleteIfExists(out)
            def pb = new ProcessBuilder('mcopy', '-n', '-i', drive, "::/$name".toString(), out.toString()).redirectErrorStream(true)
            pb.environment().MTOOLS_SKIP_CHECK = '1'
            def p = pb.start()
            p.inputStream.text
            p.waitFor()
            if (Files.exists(out) && Sha256.of(Files.readAllBytes(out)) == sha) ok++
        }
        Files.delete(raw)
        ok
    }

    def "#damageKind zeroed in a #clusterSize-cluster #fs image: every file comes back intact"() {
        given:
        def image = dir.resolve("img-$fs-$clusterSize-${damageKind}.qcow2")
        Qemu.img(['convert', '-O', 'qcow2', '-o', "cluster_size=$clusterSize".toString(), raws[fs].toString(), image.toString()])
        RescueSpec.damage(image, damageKind)
        String before = Sha256.of(Files.readAllBytes(image))
        def out = dir.resolve("out-$fs-$clusterSize-${damageKind}.qcow2")

        when:
        def report = Rescuer.rescue(image, out)

        then: 'the damaged image is untouched, the rescued one passes qemu-img check and holds every file'
        Sha256.of(Files.readAllBytes(image)) == before
        Qemu.img(['check', out.toString()], false).exit == 0
        intactFiles(out, fs.endsWith('-mbr')) == expected.size()
        report.clusterSize() == ['4k': 4096, '64k': 65536, '2M': 2 << 20][clusterSize]

        where:
        [fs, clusterSize, damageKind] << ROWS
    }

    def "a FAT boot sector: #what"() {
        expect:
        (FatFs.parse(ByteBuffer.wrap(sector(patch)), 0) != null) == plausible

        where:
        what                                   | patch                                          | plausible
        'as mkfs.fat writes it'                | { ByteBuffer b -> }                            | true
        'no 0x55AA signature'                  | { ByteBuffer b -> b.putShort(510, (short) 0) } | false
        'no jump instruction'                  | { ByteBuffer b -> b.put(0, (byte) 0) }         | false
        'bytes per sector not a power of two'  | { ByteBuffer b -> b.putShort(11, (short) 600) } | false
        'zero sectors per cluster'             | { ByteBuffer b -> b.put(13, (byte) 0) }        | false
        'three sectors per cluster'            | { ByteBuffer b -> b.put(13, (byte) 3) }        | false
        'no reserved sector'                   | { ByteBuffer b -> b.putShort(14, (short) 0) }  | false
        'no FAT'                               | { ByteBuffer b -> b.put(16, (byte) 0) }        | false
        'a media byte of 0x12'                 | { ByteBuffer b -> b.put(21, (byte) 0x12) }     | false
        'a FAT too small for its clusters'     | { ByteBuffer b -> b.putShort(22, (short) 1) }  | false
        'more FAT sectors than the volume has' | { ByteBuffer b -> b.putShort(22, (short) 0x7fff) } | false
    }

    /** The boot sector of the FAT16 volume with {@code patch} applied. */
    byte[] sector(Closure patch) {
        byte[] s = Arrays.copyOf(Files.readAllBytes(raws.fat16), 512)
        patch(ByteBuffer.wrap(s).order(ByteOrder.LITTLE_ENDIAN))
        s
    }
}
