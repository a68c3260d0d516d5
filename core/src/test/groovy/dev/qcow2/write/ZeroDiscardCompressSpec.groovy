package dev.qcow2.write

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/** Write-zeroes, discard and compressed writes, checked by qemu-img. */
class ZeroDiscardCompressSpec extends Specification {
    @TempDir Path dir

    def "zero writes and discards over data read back as QEMU defines (#options)"() {
        given:
        long size = 4 * 1024 * 1024 + 512
        def img = Qemu.create(dir.resolve('z.qcow2'), "$size", options)
        int cs = WriteShapesSpec.clusterSize(options)
        def mirror = new Mirror(size, cs, options.contains('compat=0.10') ? 2 : 3)
        byte[] data = Mirror.pattern(1, (int) size)

        when:
        Qcow2Writer.open(img, WriteOptions.defaults()).withCloseable { w ->
            w.write(0, data)
            mirror.write(0, data)
            [[0L, cs], [(long) cs * 3 + 512, cs * 2], [(long) cs * 9 + 17, 1000], [size - 512, 512]].each { s ->
                w.writeZeroes(s[0], s[1])
                mirror.zero(s[0], s[1])
            }
            w.writeZeroes((long) cs * 20, cs * 3, true)
            mirror.zero((long) cs * 20, cs * 3)
            [[(long) cs * 30 + 5, cs * 3], [(long) cs * 40, cs], [size - 4096, 4096]].each { s ->
                w.discard(s[0], s[1])
                mirror.discard(s[0], s[1])
            }
        }

        then:
        mirror.verify(img, dir)

        where:
        options << ['cluster_size=65536', 'cluster_size=4096', 'compat=0.10', 'extended_l2=on', 'cluster_size=512']
    }

    def "compressed writes are stored compressed, packed, and read back by qemu (#options)"() {
        given:
        long size = 2 * 1024 * 1024
        def img = Qemu.create(dir.resolve('c.qcow2'), "$size", options)
        int cs = WriteShapesSpec.clusterSize(options)
        def mirror = new Mirror(size, cs)

        when:
        Qcow2Writer.open(img, WriteOptions.defaults()).withCloseable { w ->
            for (int i = 0; i < 12; i++) {
                byte[] data = i == 5 ? new Random(i).with { r -> byte[] b = new byte[cs]; r.nextBytes(b); b } : Mirror.pattern(i, cs)
                w.writeCompressed((long) i * cs, data)
                mirror.write((long) i * cs, data)
            }
            byte[] over = Mirror.pattern(99, cs)
            w.writeCompressed((long) 2 * cs, over)       // replaces a compressed cluster
            mirror.write((long) 2 * cs, over)
            w.write((long) 3 * cs + 10, new byte[]{1, 2, 3}) // COW out of a compressed cluster
            mirror.write((long) 3 * cs + 10, new byte[]{1, 2, 3})
        }
        def check = Qemu.img(['check', '--output=json', img.toString()]).json()

        then:
        mirror.verify(img, dir)
        // 12 compressed writes: one incompressible (written normally), one COWed to a normal cluster
        check['compressed-clusters'] == 10

        where:
        options << ['cluster_size=65536', 'cluster_size=4096', 'compression_type=zstd', 'extended_l2=on', 'compat=0.10']
    }

    def "clusters whose repeats lie 8 KiB apart are compressed so that QEMU's 4 KiB-window inflate reads them (#options)"() {
        given: 'clusters of 8 KiB periods made of a 16-letter alphabet: compressible without, and far more with, 8 KiB back-references'
        def img = Qemu.create(dir.resolve('w.qcow2'), '4M', options)
        int cs = WriteShapesSpec.clusterSize(options)
        def rnd = new Random(5)
        byte[] period = new byte[8192]
        for (int i = 0; i < period.length; i++) period[i] = (byte) (97 + rnd.nextInt(16))
        byte[] cluster = new byte[cs]
        for (int i = 0; i < cs; i++) cluster[i] = period[i % 8192]
        def mirror = new Mirror(4 * 1024 * 1024, cs)

        when:
        Qcow2Writer.open(img, WriteOptions.defaults()).withCloseable { w ->
            w.writeCompressed(0, cluster)
            mirror.write(0, cluster)
        }

        then:
        mirror.verify(img, dir)
        Qemu.img(['check', '--output=json', img.toString()]).json()['compressed-clusters'] == 1

        where:
        options << ['cluster_size=65536', 'cluster_size=2M', 'cluster_size=16384']
    }
}
