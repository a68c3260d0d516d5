package dev.qcow2.repair;

import dev.qcow2.Qcow2Exception;
import dev.qcow2.alloc.RefcountStore;
import dev.qcow2.alloc.SyncedStorage;
import dev.qcow2.format.Qcow2Header;
import dev.qcow2.storage.WritableFileStorage;
import dev.qcow2.units.ClusterGeometry;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Poking at refcounts on purpose: sets the refcount of a host cluster to any value, or appends
 * a cluster nothing references with refcount 1 (a leak), through the writer's refcount store
 * ({@link RefcountStore}, the one refcount writer) — no hand-written refblock offsets. For the
 * demo images (the REPL's and the notebooks' damaged examples), specs, and experts who need a
 * leak or a wrong count to try a repair on. It makes exactly the damage asked for: qemu-img check
 * then reports it (a leak for a count above the references, a corruption below).
 */
public final class RefcountEditor {
    private RefcountEditor() { }

    /**
     * Sets the refcount of host cluster {@code cluster}; the cluster's refcount block must
     * exist (this never allocates metadata).
     */
    public static void set(Path image, long cluster, long refcount) throws IOException {
        try (WritableFileStorage file = WritableFileStorage.open(image)) {
            Qcow2Header h = Qcow2Header.read(file);
            SyncedStorage storage = new SyncedStorage(file);
            RefcountStore refcounts = store(storage, h);
            if (cluster < 0 || !refcounts.covered(cluster)) {
                throw new Qcow2Exception(file.describe(), "host cluster " + cluster + " has no refcount block");
            }
            if (refcount < 0 || (h.refcountBits() < 64 && refcount >= 1L << h.refcountBits())) {
                throw new Qcow2Exception(file.describe(), "refcount " + refcount + " does not fit in "
                        + h.refcountBits() + " bits");
            }
            refcounts.set(cluster, refcount);
            storage.flush();
        }
    }

    /**
     * Appends one cluster holding {@code content} (zero-padded to the cluster size) past the end
     * of the file and gives it refcount 1 without any reference: exactly one leaked cluster.
     * Returns its index.
     */
    public static long leakOneCluster(Path image, byte[] content) throws IOException {
        long cluster;
        try (WritableFileStorage file = WritableFileStorage.open(image)) {
            Qcow2Header h = Qcow2Header.read(file);
            ClusterGeometry geo = h.geometry();
            if (content.length > geo.clusterSize()) {
                throw new IllegalArgumentException(content.length + " bytes do not fit in one cluster");
            }
            cluster = geo.clustersCovering(file.size());
            SyncedStorage storage = new SyncedStorage(file);
            if (!store(storage, h).covered(cluster)) {
                throw new Qcow2Exception(file.describe(), "the cluster past the end (" + cluster + ") has no refcount block");
            }
            file.write(cluster * geo.clusterSize(), Arrays.copyOf(content, geo.clusterSize()));
            file.flush();
        }
        set(image, cluster, 1);
        return cluster;
    }

    private static RefcountStore store(SyncedStorage storage, Qcow2Header h) throws IOException {
        return new RefcountStore(storage, h.geometry(), h.refcountTableOffset(), (int) h.refcountTableClusters());
    }
}
