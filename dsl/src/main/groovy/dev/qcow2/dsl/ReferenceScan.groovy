package dev.qcow2.dsl

import dev.qcow2.check.ImageChecker
import dev.qcow2.check.ReferenceCounts
import dev.qcow2.image.OpenOptions
import dev.qcow2.image.Qcow2Image
import dev.qcow2.refcount.RefcountReader

/**
 * What {@code refcounts} and {@code unreferenced} compare: the session's image opened as
 * qemu-img check opens it, the references the check counts ({@link ImageChecker#scan}: the
 * {@code walk.MetadataWalk} counted by {@code check.ReferenceCounter}) and the refcounts the
 * image records ({@link RefcountReader}, the core's one reader, as the {@code refcounts} view reads them).
 */
final class ReferenceScan {
    final Qcow2Image image
    private final RefcountReader recorded
    private final ReferenceCounts counts

    private ReferenceScan(Qcow2Image image, ReferenceCounts counts) {
        this.image = image
        this.counts = counts
        this.recorded = RefcountReader.open(image.storage(), image.header())
    }

    /** Runs {@code body} with the scan of the session's image; the image is closed afterwards. */
    static <T> T of(Session s, Closure<T> body) {
        s.requirePath()
        Guard.run {
            Qcow2Image.open(s.path, OpenOptions.forChecking().withFollow(s.followPolicy)).withCloseable { Qcow2Image img ->
                body.call(new ReferenceScan(img, ImageChecker.scan(img, {}).references()))
            }
        }
    }

    /** The refcount the image records for host cluster {@code cluster}; null when unreadable (an unaligned refcount block). */
    Long recorded(long cluster) {
        long rc = recorded.getOr(cluster, -1)
        rc < 0 ? null : rc
    }

    /** Host clusters the refcount table can describe up to the end of the file. */
    long clustersInFile() { image.geometry().clustersCovering(image.storage().size()) }

    /** References to host cluster {@code cluster} (0 when the check counted none). */
    long references(long cluster) { counts == null ? 0 : counts.get(cluster) }

    /** Host clusters the reference count covers (references past the end of the file included). */
    long referencedClusters() { counts == null ? 0 : counts.size() }
}
