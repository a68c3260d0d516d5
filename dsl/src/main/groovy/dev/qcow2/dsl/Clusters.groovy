package dev.qcow2.dsl

/**
 * {@code clusters}: the image file's host clusters by what references them.
 * {@code clusters.unreferenced} is the carve ({@link Carving}): every cluster no live table
 * references, in runs, with its provenance.
 */
final class Clusters {
    private final Session session

    Clusters(Session session) { this.session = session }

    /** The carved runs of the open image (read only: nothing is written). */
    Table getUnreferenced() { Carving.table(session) }

    String toString() { "clusters of ${session.path?.fileName} (clusters.unreferenced: the carve)" }
}
