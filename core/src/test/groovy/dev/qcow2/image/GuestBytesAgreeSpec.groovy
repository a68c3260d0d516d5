package dev.qcow2.image

import dev.qcow2.testing.ImageMatrix
import dev.qcow2.testing.Qemu
import spock.lang.Shared
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * The core invariant of the read path: for every kind of image in the matrix, the guest bytes we
 * read equal {@code qemu-img convert -O raw}, whatever the chunking of the reads, and opening and
 * reading does not change one byte of any file involved.
 */
class GuestBytesAgreeSpec extends Specification {
    @Shared long seed = Long.getLong('qcow2.seed', System.nanoTime())
    @TempDir Path dir

    def setupSpec() {
        println "GuestBytesAgreeSpec seed=$seed (replay with -Dqcow2.seed=$seed)"
    }

    def "#name: guest bytes equal qemu-img convert -O raw, files unchanged"() {
        given:
        def image = ImageMatrix.build(name, dir, seed)
        isWhatItsNameSays(name, image)
        def expected = Qemu.rawBytes(image)
        def before = FileHashes.of(dir)

        when:
        byte[] actual
        long size
        Qcow2Image.open(image, OpenOptions.permissive()).withCloseable { img ->
            size = img.size()
            actual = ChunkedReads.readAll(img, new Random(seed ^ name.hashCode()))
        }

        then:
        size == expected.length
        ChunkedReads.firstDifference(actual, expected) == -1
        FileHashes.of(dir) == before

        where:
        name << ImageMatrix.names()
    }

    /** The builder really made the structure under test (qemu silently stores incompressible clusters uncompressed). */
    static void isWhatItsNameSays(String name, Path image) {
        def info = Qemu.img('info', '--output=json', image.toString()).json()
        if (name =~ /compress|-c /) {
            def check = Qemu.img(['check', '--output=json', image.toString()], false).json()
            assert check.'compressed-clusters' > 0: "$name: no compressed clusters"
        }
        if (name.contains('extended_l2')) assert info.'format-specific'.data.'extended-l2'
        if (name.contains('dirty')) assert info.'dirty-flag'
        if (name.contains('data file')) assert info.'format-specific'.data.'data-file'
        if (name.contains('backing') || name.startsWith('chain')) assert info.'backing-filename'
    }

    def "#name: reading one byte at scattered offsets agrees with qemu-img"() {
        given:
        def image = ImageMatrix.build(name, dir, seed)
        def expected = Qemu.rawBytes(image)
        def rnd = new Random(seed + name.hashCode())
        def offsets = (0..<200).collect { (long) (rnd.nextDouble() * expected.length) } + [0L, expected.length - 1L]

        when:
        def mismatches = []
        Qcow2Image.open(image, OpenOptions.permissive()).withCloseable { img ->
            offsets.each { long off ->
                def b = img.read(off, 1)[0]
                if (b != expected[(int) off]) mismatches << off
            }
        }

        then:
        mismatches.isEmpty()

        where:
        name << ['cluster 512 B', 'extended_l2 over backing', 'convert -c zstd 4 KiB', 'chain raw<-qcow2<-qcow2',
                 'external data file', 'odd size, compressed tail']
    }

    def "#name, backing file not followed (library default): reads like qemu with backing null"() {
        given:
        def image = ImageMatrix.build(name, dir, seed)
        def json = """json:{"driver":"qcow2","file":{"driver":"file","filename":"${image}"},"backing":null}"""
        def out = dir.resolve('ref.raw')
        Qemu.img('convert', '-O', 'raw', json, out.toString())
        byte[] expected = java.nio.file.Files.readAllBytes(out)
        java.nio.file.Files.delete(out)
        def before = FileHashes.of(dir)

        when:
        def noBacking = OpenOptions.permissive().withFollowBacking(false)   // the data file is still opened, as by qemu
        byte[] actual = Qcow2Image.open(image, noBacking).withCloseable { ChunkedReads.readAll(it, new Random(seed)) }

        then:
        actual.length == expected.length
        ChunkedReads.firstDifference(actual, expected) == -1
        FileHashes.of(dir) == before

        where:
        name << ImageMatrix.names().findAll { it.contains('backing') || it.startsWith('chain') }
    }
}
