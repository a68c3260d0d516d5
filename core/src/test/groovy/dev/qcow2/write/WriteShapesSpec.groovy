package dev.qcow2.write

import dev.qcow2.testing.Qemu
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/** Writes of every shape on images qemu-img made with various options; qemu-img checks and compares. */
class WriteShapesSpec extends Specification {
    @TempDir Path dir

    def "writes of every shape leave a clean image equal to the mirror (#options, size #size)"() {
        given:
        def img = Qemu.create(dir.resolve('t.qcow2'), "$size", options)
        int cs = clusterSize(options)
        int version = options.contains('compat=0.10') ? 2 : 3
        def mirror = new Mirror(size, cs, version)
        long l2Span = (long) cs * (cs.intdiv(options.contains('extended_l2=on') ? 16 : 8))
        def shapes = [
                [0L, cs],                         // one aligned cluster
                [(long) cs * 3 + 100, 700],       // inside a cluster, unaligned
                [(long) cs * 5 - 37, cs + 80],    // across clusters
                [(long) cs * 3 + 50, 20],         // overwrite in place
                [l2Span - 300, 900],              // across L2 tables
                [size - 777, 777],                // the end of an odd-sized disk
        ].findAll { it[0] >= 0 && it[0] + it[1] <= size }

        when:
        Qcow2Writer.open(img, WriteOptions.defaults()).withCloseable { w ->
            shapes.eachWithIndex { s, i ->
                byte[] data = Mirror.pattern(i, (int) s[1])
                w.write(s[0], data)
                mirror.write(s[0], data)
                assert w.read(s[0], data.length) == data
            }
        }

        then:
        mirror.verify(img, dir)

        where:
        options                                       | size
        'cluster_size=512'                            | 3 * 1024 * 1024 + 512
        'cluster_size=4096,refcount_bits=1'           | 5 * 1024 * 1024 - 512
        'cluster_size=65536'                          | 1024 * 1024 + 1536
        'cluster_size=65536,refcount_bits=64'         | 600 * 1024 + 512
        'cluster_size=2M'                             | 5 * 1024 * 1024 + 3584
        'compat=0.10,cluster_size=4096'               | 3 * 1024 * 1024 + 512
        'extended_l2=on,cluster_size=65536'           | 70 * 1024 * 1024 + 512
        'extended_l2=on,cluster_size=16384,refcount_bits=16' | 9 * 1024 * 1024 + 1024
        'compression_type=zstd'                       | 2 * 1024 * 1024
        'lazy_refcounts=on'                           | 2 * 1024 * 1024
    }

    static int clusterSize(String options) {
        def m = options =~ /cluster_size=(\w+)/
        if (!m) return 65536
        def v = m[0][1]
        v.endsWith('M') ? Integer.parseInt(v[0..-2]) << 20 : Integer.parseInt(v)
    }
}
