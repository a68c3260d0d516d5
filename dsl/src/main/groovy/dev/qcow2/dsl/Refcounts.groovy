package dev.qcow2.dsl

import dev.qcow2.image.OpenOptions
import dev.qcow2.image.Qcow2Image
import dev.qcow2.view.RefcountViews

/**
 * {@code refcounts}: every host cluster with a nonzero refcount or a reference, showing the
 * refcount recorded in the image beside the references a metadata walk counts (the check's
 * in-memory refcount table): the core's {@link RefcountViews#refcounts} view, the rows
 * {@code qcow2 dump refcounts} prints, with DSL selections on top. {@code leaks} are clusters whose refcount is higher than their
 * references, {@code mismatches} every cluster where the two differ, {@code histogram} how many
 * clusters have each refcount, {@code of(n)} one cluster and what references it, {@code table}
 * the refcount table itself.
 */
class Refcounts extends Table {
    private final Session session

    private Refcounts(Session session, Table rows) {
        super(rows.title, rows.columns, rows.rows, rows.type)
        this.session = session
    }

    static Refcounts of(Session s) {
        s.requirePath()
        Guard.run {
            Qcow2Image.open(s.path, OpenOptions.forChecking().withFollow(s.followPolicy)).withCloseable { Qcow2Image img ->
                new Refcounts(s, Table.from(RefcountViews.refcounts(img)))
            }
        }
    }

    /**
     * The refcount table: every nonzero entry, its refcount block and the first rule it breaks
     * (reserved bits, unaligned, past the end of the file) — {@code qcow2 dump refcount-table}'s rows.
     */
    Table getTable() { Guard.run { Table.from(RefcountViews.reftable(session.image())) } }

    /** Clusters whose refcount is higher than their references (what {@code repair leaks} fixes). */
    Table getLeaks() { retitled('leaked clusters', rows.findAll { Row r -> r.refcount != null && r.refcount > r.references }) }

    /** Every cluster where refcount and references differ (leaks, too-low refcounts, unreadable ones). */
    Table getMismatches() { retitled('refcount mismatches', rows.findAll { Row r -> r.status != 'ok' }) }

    /** Refcount value → number of clusters with it (clusters with refcount 0 and no references are not counted). */
    Table getHistogram() {
        def t = Table.of('refcount histogram', [Column.plain('refcount'), Column.plain('clusters')], 'refcount-histogram')
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
                used_by: owners], [host_offset: Column.Unit.HEX], 'host-cluster')
    }

    private Table retitled(String title, List<Row> subset) { new Table(title, columns, subset, type) }
}
