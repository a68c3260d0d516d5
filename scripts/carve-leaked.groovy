/*
 * carve-leaked.groovy — recovers what lies in clusters nothing references: leaked clusters
 * (refcount > 0, no reference) and free clusters inside the file (refcount 0) that still hold
 * non-zero bytes — e.g. data a crash left allocated but unlinked, or data left after a discard.
 *
 *   ./qcow2 run scripts/carve-leaked.groovy IMAGE OUTDIR
 *
 * Each such cluster is written to OUTDIR/cluster-<N>-at-<host offset>.bin (OUTDIR is created),
 * and listed. Read-only on IMAGE. Exit status 0 (also when nothing is found), 1 on error.
 */
import java.nio.file.Files
import java.nio.file.Path

if (args.length != 2) fail 'usage: qcow2 run carve-leaked.groovy IMAGE OUTDIR'
def (image, outDir) = args

open image
long cs = info.cluster_size
long fileClusters = (info.file_length + cs - 1).intdiv(cs)
def table = refcounts
def known = table.collect { it.cluster as long } as Set
def leaked = table.leaks.collect { it.cluster as long }
def free = (0L..<fileClusters).findAll { !(it in known) }

Path dir = Path.of(outDir)
Files.createDirectories(dir)
def carved = Table.of("unreferenced clusters of $image with data", [Column.plain('cluster'), Column.hex('host_offset'),
        Column.plain('state'), Column.plain('nonzero_bytes'), Column.plain('file')])
[[leaked, 'leaked'], [free, 'free']].each { clusters, state ->
    clusters.each { long c ->
        byte[] bytes = cluster(c, host: true).bytes
        int nonzero = 0
        for (byte b : bytes) if (b != 0) nonzero++
        if (nonzero == 0) return
        Path f = dir.resolve(String.format('cluster-%d-at-0x%x.bin', c, c * cs))
        Files.write(f, bytes)
        carved.add(c, c * cs, state, nonzero, f.toString())
    }
}
def result = carved.build()
println result ? result : "$image: no unreferenced cluster holds data"
