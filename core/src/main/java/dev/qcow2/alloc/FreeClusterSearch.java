package dev.qcow2.alloc;

/**
 * QEMU's {@code free_cluster_index} and the first-fit scan of {@code alloc_clusters_noref}
 * (block/qcow2-refcount.c): the free-cluster search of {@link ClusterAllocator}.
 *
 * <p>Invariant: every cluster below {@link #cursor()} that was free when the cursor passed it
 * has been allocated since, unless {@link #freed} lowered the cursor again; so a search never
 * has to look below the cursor.
 */
public final class FreeClusterSearch {
    /** The refcount of a host cluster, from wherever the caller keeps them. */
    @FunctionalInterface
    public interface Refcounts<E extends Exception> {
        long get(long cluster) throws E;
    }

    private long cursor;

    /** The cluster index the next search starts at ({@code free_cluster_index}). */
    public long cursor() { return cursor; }

    /** Moves the cursor (back, to retry a search after metadata was created; QEMU's -EAGAIN paths). */
    public void cursor(long cluster) { this.cursor = cluster; }

    /**
     * The first run of {@code n} clusters with refcount 0 at or after the cursor; the cursor
     * moves past the run. Nothing is allocated: the caller counts the run.
     */
    public <E extends Exception> long find(long n, Refcounts<E> refcounts) throws E {
        long start = cursor;
        long run = 0;
        long c = start;
        while (run < n) {
            if (refcounts.get(c) == 0) {
                run++;
            } else {
                run = 0;
                start = c + 1;
            }
            c++;
        }
        cursor = start + n;
        return start;
    }

    /** A cluster whose refcount dropped to 0: the next search may start there. */
    public void freed(long cluster) {
        if (cluster < cursor) cursor = cluster;
    }
}
