package dev.qcow2.testing

import java.nio.ByteBuffer
import java.nio.channels.FileChannel
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardOpenOption

/**
 * Builders for the image matrix: every kind of qcow2 image the read path must understand, made
 * at test time by qemu-img/qemu-io in a caller-supplied directory. Each builder returns the path
 * of the image to open (the top of a chain when there is one). Data comes from a pattern file
 * whose bytes vary with position and compress well, so misplaced bytes and wrong decompression
 * both show, and compressed writes really are stored compressed.
 *
 * Usage from a spec: {@code where: name << ImageMatrix.names()} then
 * {@code ImageMatrix.build(name, dir, seed)}.
 */
class ImageMatrix {
    static final long MiB = 1024 * 1024

    /** Deterministic, compressible bytes: short runs from a small alphabet (deflate/zstd shrink it ~2x). */
    static Path patternFile(Path dir, long seed, int length = 65536 + 4093) {
        def rnd = new Random(seed)
        byte[] b = new byte[length]
        int i = 0
        while (i < length) {
            byte v = (byte) (97 + rnd.nextInt(16))
            int run = 1 + rnd.nextInt(6)
            for (int k = 0; k < run && i < length; k++) b[i++] = v
        }
        def f = dir.resolve("pattern-${seed}.bin")
        Files.write(f, b)
        f
    }

    /** Writes pattern data, zeroes and discards through qemu-io: commands with {@code PAT} get the pattern file. */
    static void io(Path img, Path pattern, List<String> commands, String format = 'qcow2') {
        Qemu.io(img, commands.collect { it.replace('PAT', "-s ${pattern}") }, format)
    }

    /** A mix of writes at odd offsets and lengths, zero writes and discards in a 4 MiB disk. */
    static List<String> mixedWrites() {
        ['write PAT 0 65536',
         'write PAT 70000 12345',          // unaligned start and end
         'write PAT 300000 200000',        // crosses several clusters of any size
         'write PAT 1048576 1048576',
         'write -z 1200000 100000',        // zeroes inside allocated data
         'discard 1572864 262144',         // discard inside allocated data
         'write PAT 2621440 512',
         'write -z -u 3000000 70000',
         'write PAT 4193792 512']          // the last sector of 4 MiB
    }

    static Path plain(Path dir, long seed, String options, String size = '4M', List<String> writes = mixedWrites()) {
        def img = Qemu.create(dir.resolve('img.qcow2'), size, options)
        io(img, patternFile(dir, seed), writes)
        img
    }

    /** Compressed clusters written one by one with qemu-io {@code write -c}, interleaved with plain data. */
    static Path compressedByIo(Path dir, long seed, String options, int clusterSize) {
        def img = Qemu.create(dir.resolve('img.qcow2'), "${8 * clusterSize}", options)
        io(img, patternFile(dir, seed), [
                "write -c PAT 0 ${clusterSize}",
                "write -c PAT ${clusterSize} ${clusterSize}",
                "write PAT ${2 * clusterSize} ${clusterSize}",
                "write -c PAT ${4 * clusterSize} ${clusterSize}",
                "write -c PAT ${5 * clusterSize} ${clusterSize}",
                "write PAT ${5 * clusterSize + clusterSize.intdiv(4)} ${clusterSize.intdiv(2)}", // rewrite inside a compressed cluster
                "write -z ${4 * clusterSize} ${clusterSize}",         // compressed cluster zeroed
                "write -c PAT ${7 * clusterSize} ${clusterSize}"])
        img
    }

    /** A whole disk compressed by {@code qemu-img convert -c} from a plain one. */
    static Path compressedByConvert(Path dir, long seed, String options) {
        def src = plain(mk(dir, 'src'), seed, null)
        def img = dir.resolve('img.qcow2')
        Qemu.img(['convert', '-q', '-c', '-O', 'qcow2', '-o', options, src.toString(), img.toString()])
        img
    }

    /** qemu-io with lazy refcounts, killed by abort: the dirty bit stays set and refcounts are stale. */
    static Path dirty(Path dir, long seed) {
        def img = Qemu.create(dir.resolve('img.qcow2'), '4M', 'lazy_refcounts=on')
        def pattern = patternFile(dir, seed)
        def args = [Qemu.QEMU_IO, '-f', 'qcow2', '-c', "write -s ${pattern} 4096 200000", '-c', 'write -z 65536 4096',
                    '-c', 'abort', img.toString()]
        def r = Qemu.run(args)
        assert r.exit != 0: "qemu-io abort should not exit cleanly: $r"
        assert (Files.readAllBytes(img)[79] & 1) == 1: 'dirty bit not set after abort'
        img
    }

    /** base.qcow2 <- mid.qcow2 <- top.qcow2 in a sub-directory, each naming the next by a relative name. */
    static Path chain(Path dir, long seed, String baseFormat) {
        def sub = mk(dir, 'chain')
        def pattern = patternFile(dir, seed)
        def base = sub.resolve("base.${baseFormat}")
        Qemu.img(['create', '-q', '-f', baseFormat, base.toString(), '4M'])
        io(base, pattern, ['write PAT 0 4194304'], baseFormat)
        def mid = sub.resolve('mid.qcow2')
        Qemu.img(['create', '-q', '-f', 'qcow2', '-b', "base.${baseFormat}", '-F', baseFormat, mid.toString(), '4M'])
        io(mid, patternFile(dir, seed + 1), ['write PAT 65536 100000', 'write -z 1048576 65536', 'discard 2097152 65536',
                                              'write PAT 3000000 5000'])
        def top = sub.resolve('top.qcow2')
        Qemu.img(['create', '-q', '-f', 'qcow2', '-b', 'mid.qcow2', '-F', 'qcow2', top.toString(), '4M'])
        io(top, patternFile(dir, seed + 2), ['write PAT 90000 20000', 'write -z 2000000 300000', 'write PAT 1048576 512'])
        top
    }

    /** An overlay larger than its backing file: guest bytes past the backing file's end read as zeros. */
    static Path shortBacking(Path dir, long seed, String baseFormat, String baseSize) {
        def pattern = patternFile(dir, seed)
        def base = dir.resolve("base.${baseFormat}")
        Qemu.img(['create', '-q', '-f', baseFormat, base.toString(), baseSize])
        io(base, pattern, ["write PAT 0 ${Qemu.img('info', '--output=json', base.toString()).json()['virtual-size']}"], baseFormat)
        def top = dir.resolve('top.qcow2')
        Qemu.img(['create', '-q', '-f', 'qcow2', '-b', base.fileName.toString(), '-F', baseFormat, top.toString(), '4M'])
        io(top, patternFile(dir, seed + 1), ['write PAT 500000 100000', 'write PAT 2000000 70000'])
        top
    }

    /** An overlay with OPTIONS over a fully written qcow2 base: zero writes and discards must hide the base. */
    static Path overBacking(Path dir, long seed, String options, List<String> writes = mixedWrites()) {
        def base = Qemu.create(dir.resolve('base.qcow2'), '4M', null)
        io(base, patternFile(dir, seed + 7), ['write PAT 0 4194304'])
        def top = Qemu.create(dir.resolve('top.qcow2'), '4M', options, ['-b', 'base.qcow2', '-F', 'qcow2'])
        io(top, patternFile(dir, seed), writes)
        top
    }

    /**
     * An image whose guest data lives in an external data file, named by absolute path: QEMU
     * opens a relative data-file name relative to its working directory, not the image's.
     */
    static Path externalData(Path dir, long seed, boolean raw) {
        def img = Qemu.create(dir.resolve('img.qcow2'), '4M', "data_file=${dir.resolve('data.raw')},data_file_raw=${raw ? 'on' : 'off'}")
        io(img, patternFile(dir, seed), mixedWrites())
        img
    }

    /** Extended L2 over a backing file: unallocated subclusters of allocated clusters read from the backing file. */
    static Path extendedOverBacking(Path dir, long seed, String clusterSize) {
        def base = dir.resolve('base.qcow2')
        Qemu.create(base, '4M', null)
        io(base, patternFile(dir, seed), ['write PAT 0 4194304'])
        def top = Qemu.create(dir.resolve('top.qcow2'), '4M', "extended_l2=on,cluster_size=${clusterSize}",
                ['-b', 'base.qcow2', '-F', 'qcow2'])
        io(top, patternFile(dir, seed + 1), extendedWrites())
        top
    }

    /** Partial-subcluster writes, zeroed and discarded subclusters (subclusters are 2 KiB at 64 KiB clusters). */
    static List<String> extendedWrites() {
        ['write PAT 2048 2048',            // exactly subcluster 1 of cluster 0
         'write PAT 5000 3000',            // partial subclusters 2..3
         'write PAT 65536 65536',          // a full cluster
         'write -z 67584 4096',            // zero subclusters 1..2 of it
         'discard 71680 2048',             // discard subcluster 3 of it
         'write PAT 200000 1000',          // inside one subcluster, unaligned
         'write -z 262144 2048',           // zero subcluster of an unallocated cluster
         'write PAT 1048576 300000',
         'discard 1114112 65536',          // discard a whole cluster
         'write -z 1245184 131072']
    }

    /** Hides the backing-format header extension (retypes it as an unknown one), so the format must be probed. */
    static Path withoutBackingFormat(Path img) {
        patch(img) { ByteBuffer b ->
            int p = b.getInt(100)                       // header_length: extensions follow the header
            while (b.getInt(p) != 0) {
                if (b.getInt(p) == 0xE2792ACA) b.putInt(p, 0x0BADF00D)
                p += 8 + ((b.getInt(p + 4) + 7) & ~7)
            }
        }
    }

    /** Edits the first 4 KiB of an image in place (header and extensions; rewritten unchanged otherwise). */
    static Path patch(Path img, Closure edit) {
        FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE).withCloseable { ch ->
            def b = ByteBuffer.allocate(4096)
            ch.read(b, 0)
            edit(b)
            ch.write(b.rewind(), 0)
        }
        img
    }

    /** An overlay over base.FORMAT whose backing format is not recorded: QEMU probes it. */
    static Path probedBacking(Path dir, long seed, String baseFormat) {
        withoutBackingFormat(shortBacking(dir, seed, baseFormat, '4M'))
    }

    /**
     * A header size that is not a whole number of sectors (qemu-img always rounds up when it
     * creates): QEMU uses size / 512 sectors, so the partial last sector is not guest-visible.
     */
    static Path headerSizeNotSectorMultiple(Path dir, long seed) {
        def img = plain(dir, seed, 'cluster_size=4096', "${2 * MiB + 1024}", ['write PAT 0 2098176'])
        patch(img) { ByteBuffer b -> b.putLong(24, 2 * MiB + 1000) }
    }

    static Path mk(Path dir, String name) {
        def d = dir.resolve(name)
        Files.createDirectories(d)
        d
    }

    /** name -> builder(dir, seed) */
    static final Map<String, Closure<Path>> CASES = [
            'cluster 512 B'               : { Path d, long s -> plain(d, s, 'cluster_size=512') },
            'cluster 4 KiB'               : { Path d, long s -> plain(d, s, 'cluster_size=4096') },
            'cluster 64 KiB'              : { Path d, long s -> plain(d, s, 'cluster_size=65536') },
            'cluster 2 MiB'               : { Path d, long s -> plain(d, s, 'cluster_size=2M', '6M') },
            'refcount_bits 1'             : { Path d, long s -> plain(d, s, 'refcount_bits=1') },
            'refcount_bits 2'             : { Path d, long s -> plain(d, s, 'refcount_bits=2') },
            'refcount_bits 4'             : { Path d, long s -> plain(d, s, 'refcount_bits=4,cluster_size=4096') },
            'refcount_bits 8'             : { Path d, long s -> plain(d, s, 'refcount_bits=8') },
            'refcount_bits 16'            : { Path d, long s -> plain(d, s, 'refcount_bits=16,cluster_size=512') },
            'refcount_bits 32'            : { Path d, long s -> plain(d, s, 'refcount_bits=32') },
            'refcount_bits 64'            : { Path d, long s -> plain(d, s, 'refcount_bits=64,cluster_size=512') },
            'compat 0.10'                 : { Path d, long s -> plain(d, s, 'compat=0.10') },
            'compat 0.10 cluster 512 B'   : { Path d, long s -> plain(d, s, 'compat=0.10,cluster_size=512') },
            'compat 1.1'                  : { Path d, long s -> plain(d, s, 'compat=1.1') },
            'lazy refcounts, clean'       : { Path d, long s -> plain(d, s, 'lazy_refcounts=on') },
            'lazy refcounts, dirty'       : { Path d, long s -> dirty(d, s) },
            'extended_l2 64 KiB'          : { Path d, long s -> plain(d, s, 'extended_l2=on', '4M', extendedWrites()) },
            'extended_l2 16 KiB'          : { Path d, long s -> plain(d, s, 'extended_l2=on,cluster_size=16384', '4M', extendedWrites()) },
            'extended_l2 2 MiB'           : { Path d, long s -> plain(d, s, 'extended_l2=on,cluster_size=2M', '4M', extendedWrites()) },
            'extended_l2 over backing'    : { Path d, long s -> extendedOverBacking(d, s, '64k') },
            'extended_l2 32 KiB over backing': { Path d, long s -> extendedOverBacking(d, s, '32k') },
            'extended_l2 compressed'      : { Path d, long s -> compressedByIo(d, s, 'extended_l2=on', 65536) },
            'write -c zlib 64 KiB'        : { Path d, long s -> compressedByIo(d, s, null, 65536) },
            'write -c zstd 64 KiB'        : { Path d, long s -> compressedByIo(d, s, 'compression_type=zstd', 65536) },
            'write -c zlib 512 B'         : { Path d, long s -> compressedByIo(d, s, 'cluster_size=512', 512) },
            'write -c zstd 4 KiB'         : { Path d, long s -> compressedByIo(d, s, 'cluster_size=4096,compression_type=zstd', 4096) },
            'write -c zlib 2 MiB'         : { Path d, long s -> compressedByIo(d, s, 'cluster_size=2M', 2 * 1024 * 1024) },
            'write -c zstd 512 B'         : { Path d, long s -> compressedByIo(d, s, 'cluster_size=512,compression_type=zstd', 512) },
            'write -c zstd 2 MiB'         : { Path d, long s -> compressedByIo(d, s, 'cluster_size=2M,compression_type=zstd', 2 * 1024 * 1024) },
            'write -c zlib compat 0.10'   : { Path d, long s -> compressedByIo(d, s, 'compat=0.10', 65536) },
            'convert -c zlib 64 KiB'      : { Path d, long s -> compressedByConvert(d, s, 'cluster_size=65536') },
            'convert -c zlib 512 B'       : { Path d, long s -> compressedByConvert(d, s, 'cluster_size=512') },
            'convert -c zstd 512 B'       : { Path d, long s -> compressedByConvert(d, s, 'cluster_size=512,compression_type=zstd') },
            'convert -c zlib 4 KiB'       : { Path d, long s -> compressedByConvert(d, s, 'cluster_size=4096') },
            'convert -c zstd 4 KiB'       : { Path d, long s -> compressedByConvert(d, s, 'cluster_size=4096,compression_type=zstd') },
            'convert -c zstd 64 KiB'      : { Path d, long s -> compressedByConvert(d, s, 'compression_type=zstd') },
            'convert -c zlib 2 MiB'       : { Path d, long s -> compressedByConvert(d, s, 'cluster_size=2M') },
            'convert -c zstd 2 MiB'       : { Path d, long s -> compressedByConvert(d, s, 'cluster_size=2M,compression_type=zstd') },
            'convert -c zstd extended_l2' : { Path d, long s -> compressedByConvert(d, s, 'extended_l2=on,compression_type=zstd') },
            'preallocation metadata'      : { Path d, long s -> plain(d, s, 'preallocation=metadata') },
            'preallocation falloc'        : { Path d, long s -> plain(d, s, 'preallocation=falloc') },
            'preallocation full'          : { Path d, long s -> plain(d, s, 'preallocation=full') },
            'chain qcow2<-qcow2<-qcow2'   : { Path d, long s -> chain(d, s, 'qcow2') },
            'chain raw<-qcow2<-qcow2'     : { Path d, long s -> chain(d, s, 'raw') },
            'backing qcow2 shorter'       : { Path d, long s -> shortBacking(d, s, 'qcow2', '1M') },
            'backing qcow2 shorter, odd'  : { Path d, long s -> shortBacking(d, s, 'qcow2', '1049999') },
            'backing raw shorter, odd'    : { Path d, long s -> shortBacking(d, s, 'raw', '1049999') },
            'external data file'          : { Path d, long s -> externalData(d, s, false) },
            'external data file, raw'     : { Path d, long s -> externalData(d, s, true) },
            'odd size 10M+1234'           : { Path d, long s -> plain(d, s, null, "${10 * MiB + 1234}",
                    ['write PAT 0 100000', "write PAT ${10 * MiB - 5000} 6234", 'write -z 5000000 4096']) },
            'odd size, compressed tail'   : { Path d, long s -> plain(d, s, 'cluster_size=4096', "${10 * MiB + 1536}",
                    ["write -c PAT ${10 * MiB} 1536",   // a partial last cluster may be compressed
                     "write -c PAT ${10 * MiB - 4096} 4096", 'write PAT 7 1000']) },
            'odd size 512 B clusters'     : { Path d, long s -> plain(d, s, 'cluster_size=512', "${3 * MiB + 1}",
                    ["write PAT ${3 * MiB - 10000} 10001", 'write PAT 1 1']) },
            'bitmap'                      : { Path d, long s -> withBitmap(d, s) },
            'corrupt bit set'             : { Path d, long s -> patch(plain(d, s, null)) { ByteBuffer b -> b.put(79, (byte) 2) } },
            'unknown compatible, autoclear bits': { Path d, long s -> patch(plain(d, s, null)) { ByteBuffer b ->
                b.put(80, (byte) 0x40); b.put(88, (byte) 0x80) } },  // ignored by readers (qcow2.rst)
            'size not a sector multiple'  : { Path d, long s -> headerSizeNotSectorMultiple(d, s) },
            'backing format probed, raw'  : { Path d, long s -> probedBacking(d, s, 'raw') },
            'backing format probed, qcow2': { Path d, long s -> probedBacking(d, s, 'qcow2') },
            'compat 0.10 over backing'    : { Path d, long s -> overBacking(d, s, 'compat=0.10') },
            'compressed over backing'     : { Path d, long s -> overBacking(d, s, 'cluster_size=4096',
                    ['write -c PAT 0 4096', 'write -c PAT 8192 4096', 'write -z 8192 4096', 'write -c PAT 1048576 4096']) },
            'data file over backing'      : { Path d, long s -> overBacking(d, s, "data_file=${d.resolve('data.raw')}") },
            'extended_l2 + data file'     : { Path d, long s -> plain(d, s, "extended_l2=on,data_file=${d.resolve('data.raw')}", '4M', extendedWrites()) },
            'extended_l2 + data file raw' : { Path d, long s -> plain(d, s, "extended_l2=on,data_file=${d.resolve('data.raw')},data_file_raw=on", '4M', extendedWrites()) },
    ]

    /** A persistent bitmap b0 (granularity 64 KiB), enabled while qemu-io writes, so its bits are set. */
    static Path withBitmap(Path dir, long seed) {
        def img = Qemu.create(dir.resolve('img.qcow2'), '4M', null)
        Qemu.img('bitmap', '--add', '-g', '65536', img.toString(), 'b0')
        Qemu.img('bitmap', '--add', '--disable', '-g', '4096', img.toString(), 'b1')
        io(img, patternFile(dir, seed), mixedWrites())
        img
    }

    static List<String> names() { CASES.keySet() as List<String> }

    static Path build(String name, Path dir, long seed) {
        def builder = CASES[name]
        assert builder != null: "no image builder named '$name'"
        builder.call(dir, seed)
    }
}
