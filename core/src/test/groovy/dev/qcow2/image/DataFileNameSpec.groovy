package dev.qcow2.image

import dev.qcow2.testing.ImageMatrix
import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Files
import java.nio.file.Path

/**
 * A relative external data-file name. QEMU opens it relative to its working directory (unlike
 * backing file names, which it resolves against the image's directory); we look next to the
 * image first, so the image reads the same from any working directory.
 */
class DataFileNameSpec extends Specification {
    @TempDir Path dir

    def "a relative data-file name is found next to the image, with qemu-img's bytes"() {
        given: 'an image made in its own directory, naming its data file relatively'
        def pattern = ImageMatrix.patternFile(dir, 42)
        def create = Qemu.run([Qemu.QEMU_IMG, 'create', '-q', '-f', 'qcow2', '-o', 'data_file=data.raw', 'img.qcow2', '4M'], dir.toFile())
        assert create.exit == 0: create
        def write = Qemu.run([Qemu.QEMU_IO, '-f', 'qcow2', '-c', "write -s $pattern 1000 300000", '-c', 'write -z 65536 4096',
                              'img.qcow2'], dir.toFile())
        assert write.exit == 0 && !write.err: write
        def reference = Qemu.run([Qemu.QEMU_IMG, 'convert', '-O', 'raw', 'img.qcow2', 'ref.raw'], dir.toFile())
        assert reference.exit == 0: reference
        byte[] expected = Files.readAllBytes(dir.resolve('ref.raw'))
        Files.delete(dir.resolve('ref.raw'))
        def before = FileHashes.of(dir)

        when: 'opened from the test working directory, where no data.raw exists'
        assert !Files.exists(Path.of('data.raw'))
        byte[] actual = Qcow2Image.open(dir.resolve('img.qcow2'), OpenOptions.permissive()).withCloseable {
            ChunkedReads.readAll(it, new Random(42))
        }

        then:
        actual.length == expected.length
        ChunkedReads.firstDifference(actual, expected) == -1
        FileHashes.of(dir) == before
    }
}
