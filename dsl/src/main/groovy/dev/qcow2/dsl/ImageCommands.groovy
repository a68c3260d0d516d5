package dev.qcow2.dsl

import dev.qcow2.check.Finding
import dev.qcow2.check.ImageChecker
import dev.qcow2.format.FeatureBits
import dev.qcow2.format.HeaderExtension
import dev.qcow2.image.OpenOptions
import dev.qcow2.image.Qcow2Image
import dev.qcow2.storage.FileStorage

import static dev.qcow2.dsl.Column.Unit.BYTES
import static dev.qcow2.dsl.Column.Unit.HEX

/** {@code info}, {@code header}, {@code extensions}, {@code features} and {@code check}. */
final class ImageCommands {
    private ImageCommands() { }

    static Record info(Session s) {
        Guard.run {
            Qcow2Image img = s.image()
            def h = img.header()
            def f = [file: s.path.toString(), format: 'qcow2', compat: h.version() >= 3 ? '1.1' : '0.10',
                     virtual_size: img.size(), cluster_size: (long) h.clusterSize(),
                     file_length: img.storage().size(), actual_size: img.storage().allocatedBytes(),
                     refcount_bits: h.refcountBits(), extended_l2: h.hasExtendedL2(),
                     compression: h.compressionTypeName(), lazy_refcounts: h.lazyRefcounts(),
                     dirty: h.isDirty(), corrupt: h.isCorrupt(), encrypted: img.encrypted()]
            img.backingLink().ifPresent { link ->
                f.backing_file = link.name()
                if (link.format() != null) f.backing_format = link.format()
            }
            h.externalDataFile().ifPresent { f.data_file = it }
            f.snapshots = img.snapshots().size()
            if (h.version() >= 3) f.bitmaps = img.bitmaps().size()
            f.writable = s.writable
            new Record("info ${s.path.fileName}", f, [virtual_size: BYTES, cluster_size: BYTES, file_length: BYTES,
                                                       actual_size: BYTES])
        }
    }

    /** Every header field in on-disk order (the names are qcow2.rst's), plus the backing file name. */
    static Record header(Session s) {
        Guard.run {
            def h = s.image().header()
            def f = [:]
            def units = [:]
            for (Object[] field : h.fields()) {
                String name = field[0]
                f[name] = field[3]
                if (name.endsWith('_offset') || name == 'magic' || name.endsWith('_features')) units[name] = HEX
                if (name == 'size') units[name] = BYTES
            }
            f.backing_file = h.backingFileName()
            new Record("header ${s.path.fileName}", f, units)
        }
    }

    static Table extensions(Session s) {
        Guard.run {
            def t = Table.of("header extensions of ${s.path.fileName}", [Column.hex('type'), Column.plain('name'),
                    Column.hex('offset'), Column.bytes('length'), Column.plain('detail')])
            for (HeaderExtension e : s.image().header().extensions()) {
                t.add(Integer.toUnsignedLong(e.type()), e.name(), e.offset(), e.length(), detail(e))
            }
            t.build()
        }
    }

    private static String detail(HeaderExtension e) {
        switch (e) {
            case HeaderExtension.BackingFormat: return (e as HeaderExtension.BackingFormat).format()
            case HeaderExtension.FeatureNameTable: return "${(e as HeaderExtension.FeatureNameTable).names().size()} names"
            case HeaderExtension.Bitmaps:
                def b = e as HeaderExtension.Bitmaps
                return "${b.nbBitmaps()} bitmaps, directory at ${Sizes.hex(b.directoryOffset())}"
            case HeaderExtension.CryptoHeader:
                def c = e as HeaderExtension.CryptoHeader
                return "LUKS header at ${Sizes.hex(c.headerOffset())}, ${c.headerLength()} bytes"
            case HeaderExtension.ExternalDataFile: return (e as HeaderExtension.ExternalDataFile).fileName()
            default: return ''
        }
    }

    /**
     * Every feature bit that is known (to QEMU or to the image's feature-name table) or set:
     * kind, bit, name, whether it is set, whether this library knows it.
     */
    static Table features(Session s) {
        Guard.run {
            def h = s.image().header()
            def t = Table.of("feature bits of ${s.path.fileName}", [Column.plain('kind'), Column.plain('bit'),
                    Column.plain('name'), Column.plain('set'), Column.plain('known')])
            def bitsOf = [(FeatureBits.Kind.INCOMPATIBLE): h.incompatibleFeatures(),
                          (FeatureBits.Kind.COMPATIBLE)  : h.compatibleFeatures(),
                          (FeatureBits.Kind.AUTOCLEAR)   : h.autoclearFeatures()]
            def known = [(FeatureBits.Kind.INCOMPATIBLE): FeatureBits.INCOMPAT_KNOWN,
                         (FeatureBits.Kind.COMPATIBLE)  : FeatureBits.COMPAT_KNOWN,
                         (FeatureBits.Kind.AUTOCLEAR)   : FeatureBits.AUTOCLEAR_KNOWN]
            bitsOf.each { FeatureBits.Kind kind, long bits ->
                for (int bit = 0; bit < 64; bit++) {
                    def named = h.featureNames().find { it.featureType() == kind.ordinal() && it.bit() == bit }
                    String name = named?.name() ?: FeatureBits.knownName(kind, bit)
                    boolean set = (bits & (1L << bit)) != 0
                    if (!set && name == null) continue
                    t.add(kind.name().toLowerCase(), bit, name ?: '(unnamed)', set, (known[kind] & (1L << bit)) != 0)
                }
            }
            t.build()
        }
    }

    /** As qemu-img check: counters, exit code and every finding (opened as check opens, following the backing file). */
    static Record check(Session s) {
        s.requirePath()
        Guard.run {
            // reads are counted for the progress meter; the checker itself has no callback
            def counting = new CountingStorage(FileStorage.openReadOnly(s.path))
            Qcow2Image opened
            try {
                opened = Qcow2Image.open(counting, s.path, OpenOptions.forChecking())
            } catch (IOException | RuntimeException e) {
                counting.close()
                throw e
            }
            opened.withCloseable { Qcow2Image img ->
                def meter = Meter.start(s, 'check', MetadataSize.estimate(img))
                counting.meter = meter
                def r = ImageChecker.check(img)
                meter.finish()
                def findings = Table.of("findings", [Column.plain('type'), Column.plain('structure'),
                        Column.hex('host_offset'), Column.plain('cluster'), Column.plain('message')])
                for (Finding f : r.findings()) {
                    findings.add(f.type().jsonName(), f.structure(), f.hostOffset() < 0 ? null : f.hostOffset(),
                            f.cluster() < 0 ? null : f.cluster(), f.message())
                }
                String result = r.failure().present ? "check failed: ${r.failure().get()}"
                        : ['clean', 'check errors', 'corruptions', 'leaks only'][r.exitCode()]
                new Record("check ${s.path.fileName}", [result: result, clean: r.clean(), exit_code: r.exitCode(),
                        corruptions: r.corruptions(), leaks: r.leaks(), check_errors: r.checkErrors(),
                        total_clusters: r.totalClusters(), allocated_clusters: r.allocatedClusters(),
                        fragmented_clusters: r.fragmentedClusters(), compressed_clusters: r.compressedClusters(),
                        image_end_offset: r.imageEndOffset(), findings: findings.build(),
                        findings_omitted: r.findingsOmitted()], [image_end_offset: HEX])
            }
        }
    }
}
