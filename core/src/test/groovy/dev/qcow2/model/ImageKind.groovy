package dev.qcow2.model

import dev.qcow2.testing.Qemu
import dev.qcow2.write.Mirror

import java.nio.file.Files
import java.nio.file.Path

/**
 * One shape of image the random model tests run on: qemu-img create options and the backing
 * file's format (none, qcow2 or raw; the backing file is made once per spec run from a known
 * pattern). A seed picks its kind: consecutive seeds cycle through the options, and each
 * round of options through the backing choices.
 */
class ImageKind {
    /** Every shape the old write and snapshot random specs covered, plus refcount_bits=1. */
    static final List<String> OPTIONS = [
            'compat=0.10,cluster_size=4096', 'compat=0.10', 'cluster_size=65536', 'cluster_size=4096',
            'cluster_size=512', 'cluster_size=512,refcount_bits=64', 'refcount_bits=64', 'extended_l2=on',
            'extended_l2=on,cluster_size=16384', 'extended_l2=on,cluster_size=32768,compression_type=zstd',
            'compression_type=zstd,cluster_size=8192', 'refcount_bits=4,cluster_size=2048',
            'cluster_size=4096,refcount_bits=4', 'refcount_bits=1,cluster_size=4096', 'lazy_refcounts=on,cluster_size=4096',
    ]
    static final List<String> BACKINGS = [null, 'qcow2', null, 'raw', null, 'qcow2']

    final String options
    final String backingFormat
    final int clusterSize
    final int version
    final int refcountBits

    ImageKind(String options, String backingFormat) {
        this.options = options
        this.backingFormat = backingFormat
        this.clusterSize = (option('cluster_size') ?: '65536') as int
        this.version = option('compat') == '0.10' ? 2 : 3
        this.refcountBits = (option('refcount_bits') ?: '16') as int
    }

    static ImageKind of(long seed) {
        int n = OPTIONS.size()
        new ImageKind(OPTIONS[(int) Math.floorMod(seed, (long) n)],
                BACKINGS[(int) Math.floorMod(Math.floorDiv(seed, (long) n), (long) BACKINGS.size())])
    }

    private String option(String key) {
        options.split(',').collect { it.split('=', 2) }.find { it[0] == key }?.getAt(1)
    }

    boolean getBacked() { backingFormat != null }

    int getSubclusterSize() { options.contains('extended_l2=on') ? clusterSize.intdiv(32) : clusterSize }

    /** Three guest sizes per kind (each seed picks one, so images are made once per size and copied). */
    List<Long> sizes() { (0..2).collect { randomSize(new Random(options.hashCode() * 3L + it)) } }

    /** A guest size of 8..47 clusters plus 0..cluster-512 bytes (whole sectors), at most 4 MiB. */
    long randomSize(Random rnd) {
        long size = (long) clusterSize * (8 + rnd.nextInt(40)) + 512L * rnd.nextInt(clusterSize.intdiv(512))
        Math.min(size, 4L << 20)
    }

    /** The backing file's guest size: about 28 clusters, so it is longer than some images and shorter than others. */
    long backingSize() { Math.min((long) clusterSize * 28 + 512L * clusterSize.intdiv(1024), 3L << 20) }

    /** The backing file's guest bytes (null when there is none): a pattern with zero runs. */
    byte[] backingBytes() {
        if (!backed) return null
        BACKING_BYTES.computeIfAbsent(options) {
            byte[] bytes = Mirror.pattern(options.hashCode(), (int) backingSize())
            for (int c = 0; c < bytes.length; c += 3 * 4096) Arrays.fill(bytes, c, Math.min(c + 4096, bytes.length), (byte) 0)
            bytes
        }
    }
    private static final Map<String, byte[]> BACKING_BYTES = new java.util.concurrent.ConcurrentHashMap<>()

    /**
     * A fresh image of {@code size} bytes at {@code target}: a copy of one qemu-img made once
     * per spec run in {@code templates}, with its backing file there too.
     */
    static synchronized Path image(ImageKind kind, Path templates, long size, Path target) {
        String key = "${OPTIONS.indexOf(kind.options)}"
        def template = templates.resolve("kind$key-${kind.backingFormat}-${size}.qcow2")
        if (!Files.exists(template)) {
            List<String> extra = []
            if (kind.backed) {
                def base = templates.resolve("base$key.${kind.backingFormat}")
                if (!Files.exists(base)) {
                    def raw = templates.resolve("base${key}.tmp")
                    Files.write(raw, kind.backingBytes())
                    if (kind.backingFormat == 'raw') Files.move(raw, base)
                    else Qemu.img('convert', '-f', 'raw', '-O', 'qcow2', '-o', 'cluster_size=4096', raw.toString(), base.toString())
                    Files.deleteIfExists(raw)
                }
                extra = ['-b', base.toString(), '-F', kind.backingFormat]
            }
            Qemu.create(template, "$size", kind.options, extra)
        }
        Files.copy(template, target)
    }

    String toString() { options + (backed ? " +${backingFormat} backing" : '') }
}
