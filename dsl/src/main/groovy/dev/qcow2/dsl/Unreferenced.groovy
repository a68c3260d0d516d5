package dev.qcow2.dsl

import java.nio.file.Path

/**
 * {@code unreferenced}: every host cluster inside the image file that no metadata references
 * or whose refcount is 0, with what it holds — leaked clusters (refcount > 0, no reference:
 * what {@code repair leaks} frees), free clusters (refcount 0, no reference: e.g. data left
 * after a discard, or a crash between allocating and linking) and clusters that are referenced
 * although their refcount is 0 (a corruption: the next allocation may overwrite them; the
 * owner column says who uses them).
 * <p>Where the numbers come from, all the core's single models: references from the check's
 * walk ({@link ReferenceScan}: {@code walk.MetadataWalk} counted by
 * {@code check.ReferenceCounter}), refcounts from {@code refcount.RefcountReader}
 * ({@link OnDiskRefcounts}), owners from the same walk ({@link ClusterOwners}).
 * <p>Columns: cluster, host_offset, refcount (null: unreadable), references, state,
 * nonzero_bytes, entropy (Shannon, bits per byte, 0–8: ~8 is compressed or encrypted data,
 * low is text or sparse structures), first_bytes (hex of the first 16), owner. Each row is a
 * {@link BytesRow}: {@code row.bytes} reads the cluster, {@code row.save(to: dir)} writes it to
 * {@code dir/cluster-N-at-0xOFFSET.bin}.
 */
final class Unreferenced {
    private static final int PREVIEW = 16

    private Unreferenced() { }

    static Table of(Session s) {
        ReferenceScan.of(s) { ReferenceScan scan ->
            def storage = scan.image.storage()
            long fileSize = storage.size()
            int cs = scan.image.header().clusterSize()
            long clusters = scan.clustersInFile()
            List<long[]> candidates = []      // [cluster, references]; refcount kept apart (null: unreadable)
            List<Long> refcounts = []
            for (long c = 0; c < clusters; c++) {
                if ((c & 0xfff) == 0) Meter.cancelPoint()
                Long rc = scan.recorded(c)
                long ref = scan.references(c)
                if (ref == 0 || rc == 0L) {
                    candidates << ([c, ref] as long[])
                    refcounts << rc
                }
            }
            Map<Long, List<String>> owners = ClusterOwners.of(scan.image, candidates.findAll { it[1] > 0 }.collect { it[0] } as Set<Long>)
            def meter = Meter.start(s, 'unreferenced', candidates.size())
            Path imagePath = s.path
            List<Row> rows = []
            candidates.eachWithIndex { long[] cand, int i ->
                Meter.cancelPoint()
                long c = cand[0], ref = cand[1]
                Long rc = refcounts[i]
                long offset = c * cs
                int length = (int) Math.min(cs, fileSize - offset)
                byte[] b = storage.read(offset, length)
                def values = [cluster: c, host_offset: offset, refcount: rc, references: ref, state: state(rc, ref),
                              nonzero_bytes: (long) nonzero(b), entropy: entropy(b),
                              first_bytes: Arrays.copyOf(b, Math.min(PREVIEW, b.length)).encodeHex().toString(),
                              owner: owners[c] ? owners[c].join('; ') : null]
                rows << new BytesRow(values, String.format('cluster-%d-at-0x%x.bin', c, offset), [imagePath],
                        { -> readCluster(imagePath, offset, length) })
                meter.advance(1)
            }
            meter.finish()
            new Table("unreferenced and free clusters of ${s.path.fileName}", COLUMNS, rows)
        }
    }

    static final List<Column> COLUMNS = [Column.plain('cluster'), Column.hex('host_offset'), Column.plain('refcount'),
            Column.plain('references'), Column.plain('state'), Column.plain('nonzero_bytes'), Column.plain('entropy'),
            Column.plain('first_bytes'), Column.plain('owner')].asImmutable()

    private static String state(Long refcount, long references) {
        if (refcount == null) return 'refcount unreadable'
        if (references > 0) return 'referenced, refcount 0'
        refcount > 0 ? 'leaked' : 'free'
    }

    /** The cluster's bytes as the file holds them now (the row may be used long after the table was made). */
    private static byte[] readCluster(Path image, long offset, int length) {
        dev.qcow2.storage.FileStorage.openReadOnly(image).withCloseable { it.read(offset, length) }
    }

    private static int nonzero(byte[] b) {
        int n = 0
        for (byte x : b) if (x != 0) n++
        n
    }

    /** Shannon entropy in bits per byte, three decimals (0 for an empty or uniform cluster). */
    static BigDecimal entropy(byte[] b) {
        if (b.length == 0) return 0.0
        long[] counts = new long[256]
        for (byte x : b) counts[x & 0xff]++
        double h = 0
        for (long n : counts) {
            if (n == 0) continue
            double p = n / (double) b.length
            h -= p * Math.log(p) / Math.log(2)
        }
        BigDecimal.valueOf(h).setScale(3, java.math.RoundingMode.HALF_UP)
    }
}
