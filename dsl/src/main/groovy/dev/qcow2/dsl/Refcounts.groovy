package dev.qcow2.dsl


/**
 * {@code refcounts}: every host cluster with a nonzero refcount or a reference, showing the
 * refcount recorded in the image beside the references a metadata walk counts (the check's
 * in-memory refcount table). {@code leaks} are clusters whose refcount is higher than their
 * references, {@code mismatches} every cluster where the two differ, {@code histogram} how many
 * clusters have each refcount, {@code of(n)} one cluster and what references it.
 */
class Refcounts extends Table {
    private final Session session

    private Refcounts(Session session, Table rows) {
        super(rows.title, rows.columns, rows.rows)
        this.session = session
    }

    static Refcounts of(Session s) {
        ReferenceScan.of(s) { ReferenceScan scan ->
            long cs = scan.image.header().clusterSize()
            long clusters = Math.max(scan.onDisk.clustersInFile(), scan.referencedClusters())
            def t = Table.of("refcounts of ${s.path.fileName}", [Column.plain('cluster'), Column.hex('host_offset'),
                    Column.plain('refcount'), Column.plain('references'), Column.plain('status')])
            for (long c = 0; c < clusters; c++) {
                Long rc = scan.onDisk.get(c)
                long ref = scan.references(c)
                if (rc == 0 && ref == 0) continue
                t.add(c, c * cs, rc, ref, status(rc, ref))
            }
            new Refcounts(s, t.build())
        }
    }

    private static String status(Long refcount, long references) {
        if (refcount == null) return 'unreadable'
        if (refcount == references) return 'ok'
        refcount > references ? (references == 0 ? 'leaked' : 'too high') : 'too low'
    }

    /** Clusters whose refcount is higher than their references (what {@code repair leaks} fixes). */
    Table getLeaks() { retitled('leaked clusters', rows.findAll { Row r -> r.refcount != null && r.refcount > r.references }) }

    /** Every cluster where refcount and references differ (leaks, too-low refcounts, unreadable ones). */
    Table getMismatches() { retitled('refcount mismatches', rows.findAll { Row r -> r.status != 'ok' }) }

    /** Refcount value → number of clusters with it (clusters with refcount 0 and no references are not counted). */
    Table getHistogram() {
        def t = Table.of('refcount histogram', [Column.plain('refcount'), Column.plain('clusters')])
        rows.countBy { Row r -> r.refcount }.sort { a, b -> (a.key ?: -1) <=> (b.key ?: -1) }
                .each { k, v -> t.add(k, (long) v) }
        t.build()
    }

    /** Host cluster {@code n}: refcount, references, and the structures that point at it. */
    Record of(Object n) {
        long c = Sizes.parse(n, 'cluster')
        Row row = rows.find { Row r -> r.cluster == c }
        def owners = Guard.run { ClusterOwners.of(session.image(), c) }
        new Record("host cluster $c", [cluster: c, host_offset: c * session.image().header().clusterSize(),
                refcount: row?.refcount ?: 0L, references: row?.references ?: 0L, status: row?.status ?: 'free',
                used_by: owners], [host_offset: Column.Unit.HEX])
    }

    private Table retitled(String title, List<Row> subset) { new Table(title, columns, subset) }
}
