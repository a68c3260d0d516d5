package dev.qcow2.create

import dev.qcow2.testing.Extents
import dev.qcow2.testing.Qemu
import dev.qcow2.testing.Sha256
import spock.lang.Specification
import spock.lang.TempDir

import java.nio.file.Path

/**
 * Every create option combination qemu-img accepts gives the image qemu-img makes: the same
 * bytes (metadata at the same offsets with the same contents), the same qemu-img info, clean
 * under qemu-img check, and all zeros through our read path.
 */
class ImageCreatorSpec extends Specification {
    @TempDir Path dir

    /** compat x cluster_size x refcount_bits x preallocation, pruned to what qemu accepts; the
     *  boolean features and the compression type rotate through the v3 rows. */
    static List<String> matrix() {
        def rows = []
        int i = 0
        for (compat in ['0.10', '1.1']) {
            for (cluster in [512, 4096, 65536, 2097152]) {
                for (bits in (compat == '0.10' ? [16] : [1, 16, 64])) {
                    for (prealloc in ['off', 'metadata', 'falloc', 'full']) {
                        def o = "compat=$compat,cluster_size=$cluster,refcount_bits=$bits,preallocation=$prealloc"
                        if (compat == '1.1') {
                            i++
                            if (i % 2) o += ',lazy_refcounts=on'
                            if (i % 3 == 0 && cluster >= 16384) o += ',extended_l2=on'
                            if (i % 4 < 2) o += ',compression_type=zstd'
                        }
                        rows << o
                    }
                }
            }
        }
        rows
    }

    def "create #options #size: same bytes and info as qemu-img, check clean, reads zeros"() {
        given:
        def twins = new Twins(dir)

        when:
        def q = twins.qemuCreate(options, size)
        twins.ourCreate(options, size)

        then:
        q.exit == 0
        Twins.firstDifference(twins.qemuImage(), twins.ourImage()) == null
        twins.info(twins.ourImage()) == twins.info(twins.qemuImage())
        Twins.check(twins.ourImage()) == 0
        Twins.readsAllZeros(twins.ourImage())

        where:
        [options, size] << matrix().collect { [it, '4M'] } + [
                ['', '0'], ['', '1000'], ['', '1.5M'], ['', '1T'],
                ['cluster_size=512,refcount_bits=64', '10G'],
                ['cluster_size=512,refcount_bits=64,preallocation=metadata', '16M'],
                ['cluster_size=512,refcount_bits=64,preallocation=falloc', '16M'],
                ['cluster_size=1024,refcount_bits=32,preallocation=metadata', '16M'],
                ['cluster_size=512,refcount_bits=2,preallocation=full', '8M'],
                ['preallocation=metadata', '1000'],
                ['preallocation=falloc', '0'],
                ['extended_l2=on,cluster_size=16k,preallocation=metadata', '16M'],
                ['preallocation=metadata', '100k'],
        ]
    }

    /**
     * Layouts where create's run of the one allocator (alloc.ClusterAllocator with
     * alloc.QemuRefcountArea over alloc.NewImageRefcounts) meets QEMU's rarer rules: a refcount
     * block whose own range has none yet (alloc_refcount_block recursing through update_refcount),
     * a refcount table grown by qcow2_refcount_area with the old table's bytes left behind, the
     * exactly sized area of preallocation=falloc|full, every refcount width, the smallest and
     * largest clusters, and large virtual sizes.
     */
    def "allocation #options #size (#rule): same sha256 as qemu-img create"() {
        given:
        def twins = new Twins(dir)

        when:
        def q = twins.qemuCreate(options, size)
        twins.ourCreate(options, size)

        then:
        q.exit == 0
        Sha256.of(twins.ourImage()) == Sha256.of(twins.qemuImage())
        !options.contains('data_file') || Sha256.of(twins.ourDir.resolve('data.raw')) == Sha256.of(twins.qemuDir.resolve('data.raw'))
        Twins.check(twins.ourImage()) == 0

        where:
        options                                                                      | size    | rule
        'cluster_size=512,refcount_bits=16'                                          | '1G'    | 'the L1 table spans a refcount range with no block: its block is made first'
        'cluster_size=1024,refcount_bits=64,preallocation=metadata'                  | '16M'   | 'that, and the table grown by alloc_refcount_block + qcow2_refcount_area'
        'cluster_size=512,refcount_bits=64,preallocation=metadata'                   | '4M'    | 'table grown while L2 tables and data clusters interleave'
        'cluster_size=512,refcount_bits=2,preallocation=metadata'                    | '2M'    | 'refcount width 2'
        'cluster_size=512,refcount_bits=4,preallocation=metadata'                    | '2M'    | 'refcount width 4'
        'cluster_size=512,refcount_bits=8,preallocation=metadata'                    | '2M'    | 'refcount width 8'
        'cluster_size=512,refcount_bits=32,preallocation=metadata'                   | '2M'    | 'refcount width 32'
        'cluster_size=4096,refcount_bits=8,preallocation=full'                       | '8M'    | 'qcow2_refcount_area sized exactly for the data area'
        'cluster_size=512,refcount_bits=64,preallocation=falloc'                     | '4M'    | 'the same with the smallest clusters'
        'cluster_size=1024,refcount_bits=64,preallocation=falloc,data_file=data.raw' | '64M'   | 'external data file: metadata preallocation only'
        'cluster_size=2M,refcount_bits=64,preallocation=metadata'                    | '64M'   | 'largest clusters'
        'cluster_size=2M,extended_l2=on,preallocation=metadata'                      | '20M'   | 'largest clusters, extended L2 entries'
        'cluster_size=64k,refcount_bits=1,preallocation=metadata'                    | '64M'   | 'one-bit refcounts'
        ''                                                                           | '16T'   | 'a large L1 table'
        'cluster_size=2M,refcount_bits=1'                                            | '256T'  | 'a very large virtual size'
    }

    def "preallocation #options #size: file size, disk usage and map equal to qemu-img's (falloc reserves, it writes nothing)"() {
        given:
        def twins = new Twins(dir)
        def blocks = { Path p -> Extents.mappedBytes(p) }
        // run where the image is: qemu-img resolves a relative data file name from its working directory
        def map = { Path p -> Qemu.run([Qemu.QEMU_IMG, 'map', '--output=json', p.fileName.toString()], p.parent.toFile()).out }

        when:
        twins.qemuCreate(options, size)
        twins.ourCreate(options, size)

        then:
        Twins.firstDifference(twins.qemuImage(), twins.ourImage()) == null
        java.nio.file.Files.size(twins.ourImage()) == java.nio.file.Files.size(twins.qemuImage())
        blocks(twins.ourImage()) == blocks(twins.qemuImage())
        map(twins.ourImage()) == map(twins.qemuImage())
        Twins.check(twins.ourImage()) == 0
        dataFile != null || Qemu.img(['compare', twins.qemuImage().toString(), twins.ourImage().toString()], false).exit == 0
        dataFile == null || blocks(twins.ourDir.resolve(dataFile)) == blocks(twins.qemuDir.resolve(dataFile))

        and: 'the same blocks are reserved but unwritten (FIEMAP) in both: fallocate, not written zeros'
        Extents.unwritten(twins.ourImage()) == Extents.unwritten(twins.qemuImage())
        (options.contains('falloc') && dataFile == null) == !Extents.unwritten(twins.ourImage()).isEmpty()

        where:
        options                                                  | size  | dataFile
        'preallocation=falloc'                                   | '3M'  | null
        'preallocation=falloc,cluster_size=4k'                   | '70M' | null
        'preallocation=falloc,cluster_size=2M'                   | '5M'  | null
        'preallocation=full,cluster_size=4k'                     | '3M'  | null
        'preallocation=metadata'                                 | '3M'  | null
        'data_file=data.raw,preallocation=falloc'                | '3M'  | 'data.raw'
    }

    def "external data file #options: same image and data file as qemu-img"() {
        given:
        def twins = new Twins(dir)

        when:
        def q = twins.qemuCreate(options, size)
        twins.ourCreate(options, size)

        then:
        q.exit == 0
        Twins.firstDifference(twins.qemuImage(), twins.ourImage()) == null
        Twins.firstDifference(twins.qemuDir.resolve('data.raw'), twins.ourDir.resolve('data.raw')) == null
        twins.info(twins.ourImage()) == twins.info(twins.qemuImage())
        Twins.check(twins.ourImage()) == 0
        Twins.readsAllZeros(twins.ourImage())

        where:
        options                                                         | size
        'data_file=data.raw'                                            | '4M'
        'data_file=data.raw,data_file_raw=on'                           | '4M'
        'data_file=data.raw,data_file_raw=on'                           | '1000'
        'data_file=data.raw,preallocation=full,cluster_size=4k'         | '1M'
        'data_file=data.raw,preallocation=falloc,extended_l2=on'        | '3M'
        'data_file=data.raw,data_file_raw=on,compression_type=zstd'     | '2M'
    }

    def "backing file #options #size: same image as qemu-img, size from the backing file when none is given"() {
        given:
        def twins = new Twins(dir)
        twins.both { Path d ->
            Qemu.img(['create', '-q', '-f', 'qcow2', d.resolve('base.qcow2').toString(), '5M'])
            Qemu.img(['create', '-q', '-f', 'raw', d.resolve('base.raw').toString(), '3000'])
        }

        when:
        def q = twins.qemuCreate(options, size)
        twins.ourCreate(options, size)

        then:
        q.exit == 0
        Twins.firstDifference(twins.qemuImage(), twins.ourImage()) == null
        twins.info(twins.ourImage()) == twins.info(twins.qemuImage())
        Twins.check(twins.ourImage()) == 0
        Twins.readsAllZeros(twins.ourImage())

        where:
        options                                                                   | size
        'backing_file=base.qcow2,backing_fmt=qcow2'                               | null
        'backing_file=base.qcow2,backing_fmt=qcow2'                               | '9M'
        'backing_file=base.raw,backing_fmt=raw'                                   | null
        'backing_file=base.qcow2,backing_fmt=qcow2,compat=0.10'                   | null
        'backing_file=base.qcow2,backing_fmt=qcow2,cluster_size=512'              | null
        'backing_file=base.qcow2,backing_fmt=qcow2,cluster_size=4096'             | null
        'backing_file=base.qcow2,backing_fmt=qcow2,extended_l2=on,preallocation=metadata' | null
    }

    def "a backing file that does not exist is refused unless unsafe"() {
        given:
        def image = dir.resolve('img.qcow2')
        def opts = { new OptionList().add('backing_file=nope.qcow2,backing_fmt=qcow2,size=1M') }

        when:
        ImageCreator.create(image, opts(), false)

        then:
        def e = thrown(IOException)
        e.message == "$image: Could not open '${dir}/nope.qcow2': No such file or directory"

        when:
        ImageCreator.create(image, opts(), true)

        then:
        Qemu.img(['info', '--output=json', '-U', image.toString()]).json()['backing-filename'] == 'nope.qcow2'
    }
}
