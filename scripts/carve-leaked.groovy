/*
 * carve-leaked.groovy — recovers what lies in clusters nothing references: leaked clusters
 * (refcount > 0, no reference) and free clusters inside the file (refcount 0) that still hold
 * non-zero bytes — e.g. data a crash left allocated but unlinked, or data left after a discard.
 *
 *   ./qcow2 run scripts/carve-leaked.groovy IMAGE OUTDIR
 *
 * Each such cluster is written to OUTDIR/cluster-<N>-at-<host offset>.bin (OUTDIR is created,
 * earlier carvings replaced), and listed with its entropy (bits per byte: ~8 compressed or
 * encrypted, low for text). Read-only on IMAGE. Exit status 0 (also when nothing is found), 1 on error.
 * The DSL word `unreferenced` does the finding; this script only filters and saves.
 */
import java.nio.file.Files
import java.nio.file.Path

if (args.length != 2) fail 'usage: qcow2 run carve-leaked.groovy IMAGE OUTDIR'
def (image, outDir) = args

open image
def withData = unreferenced.findAll { it.references == 0 && it.nonzero_bytes > 0 }
if (!withData) {
    println "$image: no unreferenced cluster holds data"
    exit 0
}
Files.createDirectories(Path.of(outDir))
def carved = Table.of("unreferenced clusters of $image with data", [Column.plain('cluster'), Column.hex('host_offset'),
        Column.plain('state'), Column.plain('nonzero_bytes'), Column.plain('entropy'), Column.plain('file')])
withData.each { c ->
    carved.add(c.cluster, c.host_offset, c.state, c.nonzero_bytes, c.entropy, c.save(to: outDir, overwrite: true).file)
}
println carved.build()
