package dev.qcow2.dsl

import dev.qcow2.check.Finding
import dev.qcow2.check.ImageChecker
import dev.qcow2.image.OpenOptions
import dev.qcow2.image.Qcow2Image
import dev.qcow2.storage.FileStorage
import dev.qcow2.view.HeaderViews
import dev.qcow2.view.SnapshotViews

import static dev.qcow2.dsl.Column.Unit.BYTES
import static dev.qcow2.dsl.Column.Unit.HEX

/** {@code info}, {@code header}, {@code extensions}, {@code features}, {@code bitmaps} and {@code check}. */
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
            // a tolerant open: what it read past, each as qemu-img refuses it
            if (img.ignoredContradictions()) f.ignored = img.ignoredContradictions()*.ignored()
            new Record("info ${s.path.fileName}", f, [virtual_size: BYTES, cluster_size: BYTES, file_length: BYTES,
                                                       actual_size: BYTES], 'image-info')
        }
    }

    /** Every header field in on-disk order (qcow2.rst's names) and what they decode to: {@code qcow2 dump header}'s record. */
    static Record header(Session s) { Guard.run { Record.from(HeaderViews.header(s.image())) } }

    /** The header extensions: {@code qcow2 dump extensions}' table. */
    static Table extensions(Session s) { Guard.run { Table.from(HeaderViews.extensions(s.image())) } }

    /** Every feature bit that is known or set: {@code qcow2 dump features}' table. */
    static Table features(Session s) { Guard.run { Table.from(HeaderViews.features(s.image())) } }

    /** The persistent bitmaps with their set-bit counts: {@code qcow2 dump bitmaps}' table. */
    static Table bitmaps(Session s) {
        Guard.run {
            if (!s.writable) return Table.from(SnapshotViews.bitmaps(s.image()))
            // open for writing: the writer's bitmaps (the file marks them in use until they are stored on close)
            def t = Table.of("bitmaps of ${s.path} (open for writing; stored on close)", [Column.plain('name'), Column.bytes('granularity'),
                    Column.plain('in_use'), Column.plain('auto'), Column.plain('set_bits')])
            for (def b : s.writer().bitmaps().list()) {
                t.add(b.name(), b.granularity(), b.inconsistent(), b.enabled(), b.inconsistent() ? null : b.countSetBits())
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
                opened = Qcow2Image.open(counting, s.path, OpenOptions.forChecking().withFollow(s.followPolicy))
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
