package dev.qcow2.dsl

import dev.qcow2.rescue.CarveReport
import dev.qcow2.rescue.CarvedRun
import dev.qcow2.rescue.CarveStatus
import dev.qcow2.rescue.Carver
import dev.qcow2.rescue.Provenance

import java.nio.file.Path

/**
 * The DSL's carve, the core's {@link Carver} (the one {@code qcow2 carve} uses): every host
 * cluster of the open image that no live table references, with what it most likely was.
 * <pre>
 * clusters.unreferenced                                  // a table: one row per run
 * clusters.unreferenced.findAll { it.kind == 'l2-table' }
 * clusters.unreferenced[0].bytes  /  .save(to: 'dir')
 * carve to: 'carved'                                     // files + manifest.json, as qcow2 carve
 * </pre>
 * Read only: the file is read through its own read-only channel (no repair, dirty images too).
 * {@code carve to:} needs a new or empty directory.
 * <p>Columns: host_offset, length, status (leaked, free, uncovered), kind, guest_offset (the
 * guest range an old L2 table mapped, or the guest offset of freed data; null when unknown),
 * snapshot (the deleted snapshot that used it, when an old snapshot table says so), evidence,
 * sha256.
 */
final class Carving {
    static final List<Column> COLUMNS = [Column.hex('host_offset'), Column.bytes('length'), Column.plain('status'),
            Column.plain('kind'), Column.hex('guest_offset'), Column.plain('snapshot'), Column.plain('evidence'),
            Column.plain('sha256')].asImmutable()

    private Carving() { }

    static Table table(Session s) {
        Path image = s.requirePath()
        CarveReport r = Guard.run { Carver.analyse(image) }
        List<Row> rows = r.runs().collect { CarvedRun run -> row(image, run) }
        String title = "unreferenced clusters of ${image.fileName}" + (r.warnings() ? " (warnings: ${r.warnings().join('; ')})" : '')
        new Table(title, COLUMNS, rows, 'carve')
    }

    static Record carve(Session s, Map options) {
        Options.check(options, 'carve', ['to'])
        if (options.to == null) throw new DslException("carve needs to: 'dir' (a new or empty directory)")
        Path image = s.requirePath()
        Path dir = Path.of(options.to.toString())
        CarveReport r = Guard.run { Carver.carve(image, dir) }
        new Record("carve of ${image.fileName}", [directory: r.outputDirectory(), manifest: dir.resolve('manifest.json').toString(),
                runs: r.runs().size(), carved_clusters: r.carvedClusters(), leaked: r.clusters(CarveStatus.LEAKED),
                free: r.clusters(CarveStatus.FREE), uncovered: r.clusters(CarveStatus.UNCOVERED),
                referenced_clusters: r.referencedClusters(), warnings: r.warnings()], [:], 'carve')
    }

    private static Row row(Path image, CarvedRun run) {
        Provenance p = run.provenance()
        Long guest = null
        String snapshot = null
        switch (p) {
            case Provenance.OldL2Table: guest = p.guestOffset() < 0 ? null : p.guestOffset(); snapshot = p.snapshot(); break
            case Provenance.FreedData: guest = p.guestOffset() < 0 ? null : p.guestOffset(); snapshot = p.snapshot(); break
            case Provenance.CompressedStream: guest = p.guestOffset() < 0 ? null : p.guestOffset(); break
            case Provenance.OldL1Table: snapshot = p.snapshot(); break
            default: break
        }
        long offset = run.hostOffset(), length = run.length()
        def values = [host_offset: offset, length: length, status: run.status().label(), kind: p.kind(), guest_offset: guest,
                      snapshot: snapshot, evidence: p.evidence(), sha256: run.sha256()]
        new BytesRow(values, run.fileName(), [image], { -> read(image, offset, length) })
    }

    /** The run's bytes as the file holds them now (the row may be used long after the table was made). */
    private static byte[] read(Path image, long offset, long length) {
        if (length > Integer.MAX_VALUE - 8) throw new DslException("the run at 0x${Long.toHexString(offset)} is too large to read at once; use carve to: 'dir'")
        dev.qcow2.storage.FileStorage.openReadOnly(image).withCloseable { it.read(offset, (int) length) }
    }
}
